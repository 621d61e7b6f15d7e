"""`tongban worker`, `backup` and `restore`: what an operations team runs beside the web
processes."""

from __future__ import annotations

from typing import Annotated

import typer

from tongban.cli.common import console, migrate


def _register_jobs() -> None:
    # Each domain registers the jobs it owns when its jobs module loads.
    import tongban.analytics.jobs
    import tongban.proactive.jobs
    import tongban.worker.jobs  # noqa: F401


def worker(
    only: Annotated[
        list[str] | None, typer.Option(help="Run only this job (repeatable; see --list).")
    ] = None,
    list_jobs: Annotated[
        bool, typer.Option("--list", help="Name every job, its schedule and its last run.")
    ] = False,
) -> None:
    """Run every background job, each on its own schedule: outbox delivery, notifications,
    the audit journal's sequencing, deadline warnings, proactive runs, the analytics export
    and early warnings. Run as many as you like: a job runs in one worker at a time, and a
    killed worker's jobs are taken over once their lease runs out."""
    import signal
    import threading

    from tongban.db.engine import get_engine
    from tongban.db.session import unit_of_work
    from tongban.kit.logs import configure_logging
    from tongban.worker import leases, schedule

    configure_logging()
    _register_jobs()
    jobs = schedule.registered()
    if only:
        unknown = sorted(set(only) - {job.name for job in jobs})
        if unknown:
            console.print(f"[red]no such job: {', '.join(unknown)}[/red]")
            raise typer.Exit(1)
        jobs = [job for job in jobs if job.name in only]
    migrate()
    if list_jobs:
        with unit_of_work() as session:
            rows = {row.name: row for row in leases.states(session)}
        for job in jobs:
            row = rows.get(job.name)
            kind = "every worker" if job.shared else "leased"
            last = (
                f", last finished {row.last_finished_at:%Y-%m-%d %H:%M:%S}Z"
                if row and (row.last_finished_at)
                else ""
            )
            held = f", held by {row.holder}" if row and row.holder else ""
            console.print(f"{job.name}\tevery {job.interval:g} s ({kind}){last}{held}")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"worker {schedule.holder_name()}: {', '.join(j.name for j in jobs)}")
    schedule.run(get_engine(), stop=stop, jobs=jobs)
