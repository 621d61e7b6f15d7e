"""`tongban connectors ...`: department systems, connectors and the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

connectors_app = typer.Typer(
    help="Department systems, connectors and the outbox.", no_args_is_help=True
)


@connectors_app.command("load")
def connectors_load(
    path: Annotated[Path, typer.Argument(help="A system's YAML file", exists=True, dir_okay=False)],
) -> None:
    """Register (or update) a department system and its connectors from a YAML file."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.integration import docking

    migrate()
    try:
        spec = docking.read_system_file(path)
        with unit_of_work() as session:
            system = docking.register_system(session, operator(), spec)
            console.print(
                f"[green]registered {system.code}[/green] with {len(spec.connectors)} connector(s)"
            )
    except TongbanError as exc:
        raise fail(exc) from None


@connectors_app.command("status")
def connectors_status() -> None:
    """Each connector's health: backlog, lag, dead letters, last success and failure."""
    from rich.table import Table

    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        rows = connectors_service.health(session, operator())
    table = Table(
        "system", "connector", "kind", "pending", "lag (s)", "dead", "last success", "last error"
    )
    for row in rows:
        table.add_row(
            row.system,
            row.connector + ("" if row.active else " (inactive)"),
            row.kind,
            str(row.pending),
            f"{row.lag_seconds:.0f}",
            str(row.dead),
            row.last_success_at.isoformat(timespec="seconds") if row.last_success_at else "-",
            row.last_error[:60],
        )
    console.print(table)


@connectors_app.command("dead")
def connectors_dead() -> None:
    """Messages that could not be delivered, with their last error."""
    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        for message in connectors_service.dead_letters(session, operator()):
            console.print(
                f"{message.id}\t{message.event_type}\t{message.aggregate_id}\t"
                f"attempts={message.attempts}\t{message.last_error[:100]}"
            )


@connectors_app.command("pull")
def connectors_pull() -> None:
    """Read the result batches departments left in their file connectors' inboxes."""
    from tongban.db.engine import get_engine
    from tongban.integration import inbox

    migrate()
    report = inbox.import_inboxes(get_engine())
    console.print(
        f"{report.batches} batch(es): {report.applied} applied, "
        f"{report.duplicates} already applied, {len(report.refused)} refused"
    )
    for problem in report.refused + report.rejected_batches:
        console.print(f"[yellow]{problem}[/yellow]")


@connectors_app.command("retry")
def connectors_retry(message_id: Annotated[int, typer.Argument(help="Dead message id")]) -> None:
    """Send a dead message again."""
    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    try:
        with unit_of_work() as session:
            connectors_service.retry(session, operator(), message_id)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"message {message_id} queued again")
