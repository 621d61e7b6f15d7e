"""Jobs under leases: among several workers a job runs in one at a time, on its schedule, and a
dead worker's job is taken over once its lease runs out."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from tongban.db.session import sessions_for, unit_of_work
from tongban.worker import leases, schedule
from tongban.worker.models import WorkerJob
from tongban.worker.schedule import Job


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def _take(engine: Engine, name: str, holder: str, lease: float = 60.0) -> str | None:
    with unit_of_work(engine) as session:
        return leases.take(session, name, holder=holder, lease=lease)


def test_of_two_workers_asking_at_once_one_takes_the_job(engine: Engine) -> None:
    name = _name()
    tokens: list[str | None] = []
    start = threading.Barrier(4)

    def ask(holder: str) -> None:
        start.wait()
        tokens.append(_take(engine, name, holder))

    threads = [threading.Thread(target=ask, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([t for t in tokens if t]) == 1


def test_a_dead_workers_job_is_taken_over_when_its_lease_runs_out(engine: Engine) -> None:
    name = _name()
    assert _take(engine, name, "killed", lease=0.3) is not None
    # It never renews nor releases: killed. Until the lease runs out, nobody else runs the job.
    assert _take(engine, name, "survivor") is None
    time.sleep(0.4)
    token = _take(engine, name, "survivor")
    assert token is not None
    with unit_of_work(engine) as session:
        row = session.get(WorkerJob, name)
        assert row is not None
        assert row.holder == "survivor"
        # The killed worker, were it to wake, could not give back a job it no longer holds.
        assert not leases.renew(session, name, "not-its-token", lease=1)


def test_a_job_runs_once_per_period_among_several_workers(engine: Engine) -> None:
    name = _name()
    running = threading.Lock()
    overlaps: list[str] = []
    runs: list[datetime] = []

    def work(run_engine: Engine) -> None:
        if not running.acquire(blocking=False):
            overlaps.append("two workers ran the job at once")
            return
        try:
            # The start the lease recorded: a busy machine may delay the thread, not the schedule.
            with unit_of_work(run_engine) as session:
                row = session.get(WorkerJob, name)
                assert row is not None
                assert row.last_started_at is not None
                runs.append(row.last_started_at)
            time.sleep(0.05)
        finally:
            running.release()

    job = Job(name, every=0.5, run=work, lease=5.0)
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=schedule.run,
            args=(engine,),
            kwargs={"stop": stop, "jobs": [job], "holder": f"worker-{i}", "poll": 0.05},
        )
        for i in range(3)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2.2)
    stop.set()
    for worker in workers:
        worker.join()
    assert overlaps == []
    # Every 0.5 s over 2.2 s: 5 runs (the first at once), not three workers' 15.
    assert 4 <= len(runs) <= 5, runs
    assert all(b - a >= timedelta(seconds=0.5) for a, b in zip(runs, runs[1:], strict=False))
    with unit_of_work(engine) as session:
        row = session.execute(select(WorkerJob).where(WorkerJob.name == name)).scalar_one()
        assert row.runs == len(runs)
        assert row.holder is None


def test_a_failing_job_records_its_error_and_runs_again(engine: Engine) -> None:
    name = _name()

    def fail(_: Engine) -> None:
        raise RuntimeError("department away")

    job = Job(name, every=0.0, run=fail)
    assert schedule.run_leased_once(engine, job, holder="w")
    with sessions_for(engine)() as session:
        row = session.get(WorkerJob, name)
        assert row is not None
        assert row.last_error == "RuntimeError: department away"
    assert schedule.run_leased_once(engine, job, holder="w")


def test_every_background_loop_is_a_job() -> None:
    from tongban.cli.operations import _register_jobs

    _register_jobs()
    names = {job.name for job in schedule.registered()}
    assert {
        "outbox",
        "notifications",
        "audit-journal",
        "proactive-runs",
        "analytics-export",
        "early-warnings",
        "booking-reminders",
    } <= names
