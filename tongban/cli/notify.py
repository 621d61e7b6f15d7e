"""`tongban notify ...`: notifications to applicants and officials."""

from __future__ import annotations

from typing import Annotated

import typer

from tongban.cli.common import console, operator

notify_app = typer.Typer(help="Notifications to applicants and officials.", no_args_is_help=True)


@notify_app.command("due-soon")
def notify_due_soon(
    within: Annotated[int, typer.Option(help="Working days ahead to look.")] = 2,
) -> None:
    """Warn officials of open cases whose promised time limit is near (once per case)."""
    from tongban.applications import service as applications_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        queued = applications_service.warn_due_soon(session, operator(), within_days=within)
    console.print(f"{queued} warning(s) queued")


@notify_app.command("counts")
def notify_counts() -> None:
    """Messages per event, channel and delivery status."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.notifications import service as notifications_service

    table = Table("event", "channel", "status", "messages")
    with unit_of_work() as session:
        for row in notifications_service.counts(session, operator()):
            table.add_row(row.event, row.channel.value, row.status.value, str(row.count))
    console.print(table)
