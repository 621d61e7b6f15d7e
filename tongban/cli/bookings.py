"""`tongban bookings ...`: the scheduled job of booked counter visits."""

from __future__ import annotations

import typer

from tongban.cli.common import console, operator

bookings_app = typer.Typer(help="Booked counter visits (预约办理).", no_args_is_help=True)


@bookings_app.command("scan")
def bookings_scan() -> None:
    """Remind the people whose visit is tomorrow (once per booking and time) and mark missed
    the bookings nobody came to. Run it every hour or so (cron, a systemd timer)."""
    from tongban.bookings import service as bookings_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        report = bookings_service.scan(session, operator())
    console.print(f"{report.reminded} reminder(s) queued, {report.missed} booking(s) missed")
