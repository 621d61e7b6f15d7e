"""Leases on jobs: at most one worker runs a job at a time, and a dead worker's job is taken over.

A worker takes a job with one conditional UPDATE (due, and not leased or its lease run out):
the database lets exactly one of several workers asking at once change the row. It renews the
lease while the job runs and gives it back with the job's next run time; a worker killed
mid-run renews nothing, so once ``leased_until`` passes, the next worker to ask takes the job.
No advisory lock: the same statements work on SQLite and PostgreSQL, and the table shows who
runs what.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban.kit.clock import utcnow
from tongban.worker.models import WorkerJob


def _ensure(session: Session, name: str, now: datetime) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(WorkerJob)
        .values(name=name, next_run_at=now, runs=0, last_error="")
        .on_conflict_do_nothing(index_elements=["name"])
    )


def take(
    session: Session, name: str, *, holder: str, lease: float, now: datetime | None = None
) -> str | None:
    """Lease the job ``name`` if it is due (at ``now``) and nobody holds it; the lease's token,
    or None. The row's ``last_started_at`` is ``now``."""
    now = now or utcnow()
    _ensure(session, name, now)
    token = secrets.token_hex(16)
    taken = session.execute(
        update(WorkerJob)
        .where(
            WorkerJob.name == name,
            WorkerJob.next_run_at <= now,
            or_(WorkerJob.leased_until.is_(None), WorkerJob.leased_until < now),
        )
        .values(
            holder=holder,
            lease_token=token,
            leased_until=now + timedelta(seconds=lease),
            last_started_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return token if int(taken.rowcount) == 1 else None  # type: ignore[attr-defined]


def renew(session: Session, name: str, token: str, *, lease: float) -> bool:
    """Extend a lease still held; False if it ran out and another worker took the job."""
    renewed = session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == name, WorkerJob.lease_token == token)
        .values(leased_until=utcnow() + timedelta(seconds=lease))
        .execution_options(synchronize_session=False)
    )
    return int(renewed.rowcount) == 1  # type: ignore[attr-defined]


def release(
    session: Session, name: str, token: str, *, next_run_at: datetime, error: str = ""
) -> bool:
    """Give the job back after a run, due again at ``next_run_at``; False if the lease was lost
    (the run took longer than its lease and another worker holds the job now)."""
    released = session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == name, WorkerJob.lease_token == token)
        .values(
            holder=None,
            lease_token=None,
            leased_until=None,
            next_run_at=next_run_at,
            last_finished_at=utcnow(),
            runs=WorkerJob.runs + 1,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount) == 1  # type: ignore[attr-defined]


def states(session: Session) -> list[WorkerJob]:
    """Every job's row, for `tongban worker --status` and the tests."""
    return list(session.execute(select(WorkerJob).order_by(WorkerJob.name)).scalars())
