"""`tongban exchange ...`: the data sharing exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

exchange_app = typer.Typer(help="The data sharing exchange.", no_args_is_help=True)


@exchange_app.command("load")
def exchange_load(
    path: Annotated[Path, typer.Argument(help="A YAML file of resources, or a CSV of items")],
) -> None:
    """Register or update information resources from a file; all or nothing."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.exchange import files
    from tongban.exchange import service as exchange_service

    migrate()
    try:
        specs = files.read(path)
        with unit_of_work() as session:
            report = exchange_service.register_resources(session, operator(), specs)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(vars(report))


@exchange_app.command("resources")
def exchange_resources(text: Annotated[str | None, typer.Argument()] = None) -> None:
    """List the catalog's resources (matching TEXT)."""
    from tongban.db.session import unit_of_work
    from tongban.exchange import service as exchange_service

    with unit_of_work() as session:
        for resource in exchange_service.search(session, operator(), text=text):
            console.print(
                f"{resource.code}\tv{resource.version}\t{resource.title_zh}\t"
                f"{len(resource.items)} item(s)"
            )


@exchange_app.command("credentials")
def exchange_credentials(
    system: Annotated[str, typer.Argument(help="Department system code")],
) -> None:
    """Issue client credentials for a department system to call the gateway (shown once)."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.exchange import service as exchange_service

    migrate()
    try:
        with unit_of_work() as session:
            registration = exchange_service.issue_credentials(
                session, operator(), system_code=system
            )
            client_id = registration.client.client_id
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"client_id: {client_id}")
    console.print(f"client_secret: {registration.secret}")
    console.print("token: POST /oidc/token grant_type=client_credentials (HTTP Basic)")
