"""The `tongban` command: a thin layer over the domains' services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tongban.config import get_settings

app = typer.Typer(
    help="tongban (通办): integrated online government service platform.", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
catalog_app = typer.Typer(help="The service catalog.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts of officials and administrators.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(catalog_app, name="catalog")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
console = Console()


def _migrate() -> None:
    from tongban.db.engine import get_engine
    from tongban.db.migrate import upgrade

    upgrade(get_engine())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    _migrate()
    console.print("[green]database is up to date[/green]")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Load demo catalog and accounts into an empty database.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate the database, optionally load the demo, and serve the platform."""
    import uvicorn

    from tongban import demo as demo_data
    from tongban.db.session import unit_of_work
    from tongban.web.app import create_app

    _migrate()
    if demo:
        with unit_of_work() as session:
            if demo_data.is_empty(session):
                report = demo_data.load(session)
                console.print(
                    f"demo loaded: {report.departments_created} departments, "
                    f"{report.items_created} items; accounts use the password "
                    f"[bold]{demo_data.DEMO_PASSWORD}[/bold]"
                )
            else:
                console.print("the database already has data; demo not loaded again")
    console.print(f"tongban on http://{host}:{port}/  (database {get_settings().database_url})")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@catalog_app.command("load")
def catalog_load(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder with departments.yaml and items/*.yaml", exists=True, file_okay=False
        ),
    ],
) -> None:
    """Create or update departments and items from data files."""
    from tongban.catalog import service as catalog_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    _migrate()
    try:
        with unit_of_work() as session:
            report = catalog_service.load_catalog(session, None, directory)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(vars(report))


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; name the first entry that was edited, deleted or moved."""
    from tongban.audit import service as audit_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        result = audit_service.verify(session)
    if result.ok:
        console.print(f"[green]audit log intact[/green]: {result.checked} entries verified")
        return
    console.print(
        f"[red]audit log broken at entry {result.first_bad_seq}[/red]: {result.problem} "
        f"({result.checked} entries before it verified)"
    )
    raise typer.Exit(2)


@accounts_app.command("create")
def accounts_create(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    display_name: Annotated[str, typer.Option("--name", help="Name shown to people")],
    kind: Annotated[str, typer.Option(help="official, admin or applicant")] = "official",
    department: Annotated[
        str | None, typer.Option(help="Department code (officials), e.g. SAMR")
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given"
        ),
    ] = "",
) -> None:
    """Create an account as the operator (e.g. the first administrator, or officials)."""
    from tongban.catalog import service as catalog_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.identity import service as identity_service
    from tongban.identity.models import AccountKind

    _migrate()
    try:
        account_kind = AccountKind(kind)
    except ValueError:
        console.print(f"[red]kind must be one of: {', '.join(k.value for k in AccountKind)}[/red]")
        raise typer.Exit(1) from None
    try:
        with unit_of_work() as session:
            department_id = (
                catalog_service.get_department(session, None, department).id if department else None
            )
            account = identity_service.create_account(
                session,
                None,
                username=username,
                password=password,
                display_name=display_name,
                kind=account_kind,
                department_id=department_id,
            )
            console.print(f"[green]created {account.kind.value} {account.username}[/green]")
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
