"""`tongban worker`, `backup` and `restore`: what an operations team runs beside the web
processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate
from tongban.config import get_settings


def _register_jobs() -> None:
    # Each domain registers the jobs it owns when its jobs module loads.
    import tongban.analytics.jobs
    import tongban.bookings.jobs
    import tongban.integration.jobs
    import tongban.proactive.jobs  # noqa: F401


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


def _key_ids() -> list[str]:
    """The master key ids in place, without making a key file where there is none."""
    from tongban.security import deployment
    from tongban.security.keys import ENV_VAR

    path = deployment.key_ring_path()
    if (path is not None and path.is_file()) or (path is None and os.environ.get(ENV_VAR)):
        return list(deployment.key_ring().keys)
    return []


def _kept_apart() -> list[Path]:
    """Keys a backup must not hold: the master keys (the data's) and the checkpoint key (the
    audit chain's witness)."""
    settings = get_settings()
    paths = [settings.generated_master_keys_file, settings.checkpoint_key_path]
    if settings.master_keys_file:
        paths.append(settings.master_keys_file)
    return paths


def backup(
    directory: Annotated[Path, typer.Argument(help="A new or empty folder for the backup.")],
) -> None:
    """Back up the database (pg_dump custom format, or SQLite's online backup) and the stored
    files, with a manifest of their hashes and of the master key ids (the keys themselves are
    kept apart: back them up on their own)."""
    from tongban.db import backup as backups
    from tongban.db.engine import get_engine
    from tongban.errors import TongbanError

    try:
        report = backups.create(
            get_engine(),
            get_settings().data_dir,
            directory,
            key_ids=_key_ids(),
            exclude=_kept_apart(),
        )
    except TongbanError as exc:
        raise fail(exc) from None
    except subprocess.CalledProcessError as exc:
        console.print(f"[red]pg_dump failed[/red]: {exc.stderr.decode(errors='replace')}")
        raise typer.Exit(1) from None
    console.print(
        f"backed up the {report.database} database and {report.files} file(s) "
        f"({report.bytes} bytes) to {report.directory}; master key ids referenced: "
        f"{', '.join(report.key_ids) or 'none'}",
        soft_wrap=True,
    )


def restore(
    directory: Annotated[Path, typer.Argument(help="The folder `tongban backup` wrote.")],
) -> None:
    """Restore a backup into an empty database (TONGBAN_DATABASE_URL) and the data folder,
    checking every file's hash first. Put the master keys in place before serving."""
    from tongban.db import backup as backups
    from tongban.db.engine import get_engine
    from tongban.errors import TongbanError

    try:
        report = backups.restore(
            get_engine(), get_settings().data_dir, directory, key_ids=_key_ids()
        )
    except TongbanError as exc:
        raise fail(exc) from None
    except subprocess.CalledProcessError as exc:
        console.print(f"[red]pg_restore failed[/red]: {exc.stderr.decode(errors='replace')}")
        raise typer.Exit(1) from None
    console.print(f"restored the {report.database} database and {report.files} file(s)")
    if report.missing_keys:
        console.print(
            "[yellow]the master keys in place lack "
            f"{', '.join(report.missing_keys)}[/yellow]: encrypted fields cannot be read "
            "until the key file (TONGBAN_MASTER_KEYS_FILE) that has them is put back",
            soft_wrap=True,
        )
    migrate()  # a backup of an older release is brought up to this one's schema
    console.print("`tongban audit verify` checks the restored audit chain")
