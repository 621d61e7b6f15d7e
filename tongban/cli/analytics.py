"""`tongban analytics ...`: service statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

analytics_app = typer.Typer(
    help="Service statistics: the Parquet export, figures, early warnings, demo cases.",
    no_args_is_help=True,
)


@analytics_app.command("export")
def analytics_export(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Export folder (default TONGBAN_ANALYTICS_DIR).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Events per Parquet file.", min=1)] = 200_000,
) -> None:
    """Append the events that are new since the last run to the Parquet store."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TimeRemainingColumn,
    )

    from tongban.analytics import service as analytics_service
    from tongban.db.session import unit_of_work

    migrate()
    with (
        Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar,
        unit_of_work() as session,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(source: str, done: int, todo: int) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(source, total=max(todo, 1))
            bar.update(tasks[source], completed=done if todo else 1)

        report = analytics_service.export_events(
            session, operator(), directory=directory, batch_size=batch_size, progress=progress
        )
    for source, new in report.new_rows.items():
        console.print(
            f"{source}: {new} new, {report.total_rows[source]} in all ({report.directory})"
        )


@analytics_app.command("demo")
def analytics_demo(
    cases: Annotated[int, typer.Option(help="How many applications to write.", min=1)] = 20_000,
    days: Annotated[int, typer.Option(help="Over how many days before now.")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cases).")] = 1,
    slow_department: Annotated[str, typer.Option(help="The slow department's code.")] = "HOUSING",
) -> None:
    """Write a year of synthetic cases across the demo catalog (a demo database only)."""
    from tongban.analytics import service as analytics_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    migrate()
    try:
        with unit_of_work() as session:
            report = analytics_service.generate_demo_cases(
                session,
                operator(),
                cases=cases,
                days=days,
                seed=seed,
                slow_department=slow_department,
            )
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(
        f"{report.cases} cases with {report.events} events from {report.start} to {report.end}"
    )
    for status, n in report.by_status.most_common():
        console.print(f"  {status}: {n}")


@analytics_app.command("warnings")
def analytics_warnings(
    source: Annotated[str | None, typer.Option(help="live or parquet (default: settings).")] = None,
) -> None:
    """Cases about to pass their time limit, and departments worsening week over week."""
    from tongban.analytics import service as analytics_service
    from tongban.db.session import unit_of_work
    from tongban.kit.i18n import translate

    with unit_of_work() as session:
        found = analytics_service.early_warnings(session, operator(), source=source)
    for case in found.at_risk:
        state = "OVERDUE" if case.overdue else "due soon"
        console.print(
            f"{case.number}\t{case.department_code}\t{case.item_code}\t{case.status}\t"
            f"due {case.promised_due_on}\t{state} ({case.working_days_left} working days)"
        )
    for dept in found.worsening:
        why = "; ".join(translate(r, "en") for r in dept.reasons)
        console.print(f"[yellow]{dept.department_code} worsening[/yellow]: {why}")
    console.print(f"{len(found.at_risk)} case(s) at risk, {len(found.worsening)} department(s)")


@analytics_app.command("notify-warnings")
def analytics_notify_warnings(
    source: Annotated[str | None, typer.Option(help="live or parquet (default: settings).")] = None,
) -> None:
    """Tell every supervisor of today's early warnings (each at most once a day): for cron."""
    from tongban.analytics import service as analytics_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    migrate()
    try:
        with unit_of_work() as session:
            told = analytics_service.notify_supervisors(session, operator(), source=source)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"{told.messages} message(s) to {told.supervisors} supervisor(s)")


@analytics_app.command("free-share")
def analytics_free_share() -> None:
    """免提交率: per item and overall, the share of required materials a verified person
    holding the demo licences need not upload (the catalog and exchange as loaded)."""
    from tongban.analytics import service as analytics_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        found = analytics_service.materials_free_share(session, operator())
    for item in found.items:
        kinds = ",".join(source.kind.value for _, source in item.sources)
        console.print(
            f"{item.code}\t{item.name.zh}\t{item.free}/{item.required}\t{item.share}%\t{kinds}",
            soft_wrap=True,
        )
    console.print(
        f"RESULT name=materials_free_share items={len(found.items)} required={found.required} "
        f"free={found.free} share_pct={found.share}"
    )
