"""`tongban worker`: every background job, each on its own schedule, in one process.

A job is registered by the domain that owns the work (``register``); the command line imports
the domains and runs ``run``. Each job has a thread of its own, so a long run (a proactive rule
over the whole population) never delays delivery. A *leased* job runs in one worker at a time
(``worker.leases``); a *shared* job runs in every worker at once, because the rows it works on
are leased one by one already (the outbox: each message goes to one worker).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from tongban.config import get_settings
from tongban.db.session import sessions_for
from tongban.kit.clock import utcnow
from tongban.worker import leases

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    # Seconds from the start of one run to the next (TONGBAN_WORKER_SCHEDULE overrides it).
    every: float
    run: Callable[[Engine], object]
    # How long a run may go without its worker renewing the lease before another takes over.
    lease: float = 60.0
    shared: bool = False

    @property
    def interval(self) -> float:
        return float(get_settings().worker_schedule.get(self.name, self.every))


_JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    _JOBS[job.name] = job
    return job


def registered() -> list[Job]:
    return list(_JOBS.values())


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def run_leased_once(engine: Engine, job: Job, *, holder: str) -> bool:
    """Run ``job`` if this worker can lease it now; whether it ran."""
    sessions = sessions_for(engine)
    # The next run is due one interval after this one was taken (its recorded start), however
    # long the thread waits for the processor before the job itself begins.
    started = utcnow()
    with sessions() as session, session.begin():
        token = leases.take(session, job.name, holder=holder, lease=job.lease, now=started)
    if token is None:
        return False
    done = threading.Event()

    def keep_lease() -> None:
        # A long run keeps its lease; a worker killed mid-run stops renewing it.
        while not done.wait(job.lease / 3):
            with sessions() as session, session.begin():
                if not leases.renew(session, job.name, token, lease=job.lease):
                    log.warning("job %s: lease lost while running", job.name)
                    return

    renewer = threading.Thread(target=keep_lease, daemon=True, name=f"lease-{job.name}")
    renewer.start()
    error = ""
    try:
        job.run(engine)
    except Exception as exc:  # a failing job waits for its next run; the others go on
        log.exception("job %s failed", job.name)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        done.set()
        renewer.join()
    with sessions() as session, session.begin():
        leases.release(
            session,
            job.name,
            token,
            next_run_at=started + timedelta(seconds=job.interval),
            error=error,
        )
    return True


def _loop(engine: Engine, job: Job, *, stop: threading.Event, holder: str, poll: float) -> None:
    while not stop.is_set():
        if job.shared:
            try:
                job.run(engine)
            except Exception:
                log.exception("job %s failed", job.name)
            stop.wait(job.interval)
            continue
        try:
            run_leased_once(engine, job, holder=holder)
        except Exception:  # the database away: ask again later
            log.exception("job %s: could not take its lease", job.name)
        # Not due, or held elsewhere: ask again soon, so a dead holder's job is taken over
        # within a poll of its lease running out.
        stop.wait(min(job.interval, poll))


def run(
    engine: Engine,
    *,
    stop: threading.Event,
    jobs: Iterable[Job] | None = None,
    holder: str | None = None,
    poll: float = 1.0,
) -> None:
    """Run ``jobs`` (default: every registered one) until ``stop`` is set."""
    holder = holder or holder_name()
    threads = [
        threading.Thread(
            target=_loop,
            args=(engine, job),
            kwargs={"stop": stop, "holder": holder, "poll": poll},
            name=f"job-{job.name}",
            daemon=True,
        )
        for job in (registered() if jobs is None else jobs)
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=30)
