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


connectors_app = typer.Typer(
    help="Department systems, connectors and the outbox.", no_args_is_help=True
)
app.add_typer(connectors_app, name="connectors")


@connectors_app.command("load")
def connectors_load(
    path: Annotated[Path, typer.Argument(help="A system's YAML file", exists=True, dir_okay=False)],
) -> None:
    """Register (or update) a department system and its connectors from a YAML file."""
    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    _migrate()
    try:
        spec = connectors_service.read_system_file(path)
        with unit_of_work() as session:
            system = connectors_service.register_system(session, None, spec)
            console.print(
                f"[green]registered {system.code}[/green] with {len(spec.connectors)} connector(s)"
            )
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@connectors_app.command("status")
def connectors_status() -> None:
    """Each connector's health: backlog, lag, dead letters, last success and failure."""
    from rich.table import Table

    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        rows = connectors_service.health(session, None)
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
        for message in connectors_service.dead_letters(session, None):
            console.print(
                f"{message.id}\t{message.event_type}\t{message.aggregate_id}\t"
                f"attempts={message.attempts}\t{message.last_error[:100]}"
            )


@connectors_app.command("retry")
def connectors_retry(message_id: Annotated[int, typer.Argument(help="Dead message id")]) -> None:
    """Send a dead message again."""
    from tongban.connectors import service as connectors_service
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError

    try:
        with unit_of_work() as session:
            connectors_service.retry(session, None, message_id)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"message {message_id} queued again")


@app.command()
def dispatch(
    once: Annotated[bool, typer.Option(help="Deliver what is due now, then stop.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds to wait when nothing is due.")] = 1.0,
    system: Annotated[
        list[str] | None, typer.Option(help="Serve only these system codes (repeatable).")
    ] = None,
) -> None:
    """Deliver outbox messages to department systems (run one or more of these next to serve)."""
    import signal
    import threading

    from tongban.connectors import dispatcher
    from tongban.connectors import service as connectors_service
    from tongban.db.engine import get_engine
    from tongban.db.session import unit_of_work

    _migrate()
    systems = None
    if system:
        with unit_of_work() as session:
            systems = [connectors_service.get_system(session, None, code).id for code in system]
    if once:
        report = dispatcher.dispatch_once(get_engine(), systems=systems)
        console.print(vars(report))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print("dispatching; Ctrl-C stops after the current round")
    dispatcher.run(get_engine(), stop=stop, interval=interval, systems=systems)
