"""`tongban payments reconcile`: a department's daily reconciliation against the payment
provider's settlement list, from cron or a systemd timer (exit status 1 on a mismatch)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console

from tongban.cli.common import fail, migrate, operator

payments_app = typer.Typer(help="Fees paid online: reconciliation.", no_args_is_help=True)
console = Console(soft_wrap=True)


@payments_app.command("reconcile")
def reconcile(
    department: Annotated[str, typer.Option(help="The department's code, e.g. PSB.")],
    day: Annotated[
        str | None, typer.Option(help="The day (YYYY-MM-DD); default yesterday, done.")
    ] = None,
) -> None:
    """Compare the department's payments and refunds of a day with the provider's settlement
    list, line by line. Exit status 0 when every line matches, 1 otherwise."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.kit.clock import local_today
    from tongban.payments import fees, service

    migrate()
    try:
        chosen = date.fromisoformat(day) if day else local_today() - timedelta(days=1)
        with unit_of_work() as session:
            report = service.reconcile(session, operator(), department_code=department, day=chosen)
    except (TongbanError, ValueError) as exc:
        raise fail(exc) from None
    for line in report.lines:
        ours = fees.yuan(line.ours_fen) if line.ours_fen is not None else "—"
        theirs = fees.yuan(line.theirs_fen) if line.theirs_fen is not None else "—"
        colour = "green" if line.outcome == "matched" else "red"
        console.print(
            f"{line.kind:8} {line.number or line.reference:24} platform {ours:>12}  "
            f"provider {theirs:>12}  [{colour}]{line.outcome}[/{colour}]"
        )
    console.print(
        f"{report.department_code} {report.day}: paid {fees.yuan(report.total('ours', 'payment'))}"
        f" (provider {fees.yuan(report.total('theirs', 'payment'))}), refunded "
        f"{fees.yuan(report.total('ours', 'refund'))} "
        f"(provider {fees.yuan(report.total('theirs', 'refund'))}); "
        f"{len(report.mismatches)} mismatch(es)"
    )
    raise typer.Exit(1 if report.mismatches else 0)
