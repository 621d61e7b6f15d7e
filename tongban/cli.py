"""The `tongban` command: a thin layer over the domains' services."""

from __future__ import annotations

import os
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
accounts_app = typer.Typer(
    help="Accounts of officials and administrators, and their authenticators.",
    no_args_is_help=True,
)
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
    notifications: Annotated[
        bool | None,
        typer.Option(
            help="Also deliver notifications in this process (default: with --demo only; "
            "in production run `tongban dispatch` beside it)."
        ),
    ] = None,
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
                from tongban.licences.demo import issue_demo_licences

                issued = issue_demo_licences(session)
                console.print(f"demo licences: {len(issued)} approved case(s) of zhangsan")
            else:
                console.print("the database already has data; demo not loaded again")
    if "public_url" not in get_settings().model_fields_set:
        # Unset, the address served is the public one: QR codes and the OIDC issuer follow
        # --host/--port. Behind a proxy or on another name, set TONGBAN_PUBLIC_URL.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["TONGBAN_PUBLIC_URL"] = f"http://{shown}:{port}"
        get_settings.cache_clear()
    console.print(
        f"tongban on {get_settings().public_url}/  (database {get_settings().database_url})"
    )
    if demo if notifications is None else notifications:
        import threading

        from tongban.connectors import dispatcher
        from tongban.db.engine import get_engine

        # In-app messages and tracking codes then work in a one-process demo; the recording
        # senders write what SMS and e-mail would carry to sent-messages.jsonl in the data dir.
        threading.Thread(
            target=dispatcher.run,
            kwargs={"engine": get_engine(), "stop": threading.Event(), "targets_only": True},
            daemon=True,
        ).start()
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
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="Role of an official (repeatable): clerk, reviewer, approver"),
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given"
        ),
    ] = "",
) -> None:
    """Create an account as the operator (e.g. the first administrator, or officials).

    Officials and administrators set up their authenticator app at their first sign-in (or the
    operator does it for them with `tongban accounts totp USERNAME`).
    """
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
                roles=role or [],
            )
            roles = f" with roles {', '.join(account.roles)}" if account.roles else ""
            console.print(f"[green]created {account.kind.value} {account.username}{roles}[/green]")
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@accounts_app.command("totp")
def accounts_totp(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    reset: Annotated[
        bool,
        typer.Option(help="A new secret (a lost phone); ends the person's sessions"),
    ] = False,
) -> None:
    """Set up someone's authenticator (two-step sign-in), or show their current code.

    Without an authenticator yet (or with --reset) a new secret is made and printed with a QR code
    to scan; otherwise only the current 6-digit code is printed (for the demo and for operators).
    """
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.identity import credentials
    from tongban.identity import service as identity_service

    _migrate()
    try:
        with unit_of_work() as session:
            result = identity_service.operator_totp(session, None, username=username, reset=reset)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if result.enrolled_now:
        uri = credentials.provisioning_uri(result.secret, result.account.username)
        console.print(f"[green]authenticator set up for {result.account.username}[/green]")
        console.print(f"secret: {credentials.spaced(result.secret)}")
        console.print(f"uri:    {uri}")
        if result.sessions_ended:
            console.print(f"ended {result.sessions_ended} session(s)")
        import segno

        segno.make(uri, error="m").terminal(compact=True)
    console.print(f"current code: [bold]{credentials.totp_code(result.secret)}[/bold]")


companies_app = typer.Typer(
    help="Legal persons (companies, organisations) and who acts for them.", no_args_is_help=True
)
app.add_typer(companies_app, name="companies")


@companies_app.command("create")
def companies_create(
    uscc: Annotated[str, typer.Argument(help="Unified social credit code (18 characters)")],
    name: Annotated[str, typer.Argument(help="Registered name")],
    representative: Annotated[
        str, typer.Option(help="Username of the legal representative (a citizen's account)")
    ],
) -> None:
    """Register a legal person with its legal representative, who then authorises agents."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.identity.companies import service as companies_service

    _migrate()
    try:
        with unit_of_work() as session:
            legal_person = companies_service.register_legal_person(
                session, None, uscc=uscc, name=name, representative=representative
            )
            console.print(
                f"[green]registered {legal_person.name} ({legal_person.uscc}); legal "
                f"representative {representative}[/green]"
            )
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


@connectors_app.command("pull")
def connectors_pull() -> None:
    """Read the result batches departments left in their file connectors' inboxes."""
    from tongban.connectors import inbox
    from tongban.db.engine import get_engine

    _migrate()
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
    notifications_only: Annotated[
        bool, typer.Option(help="Deliver only notifications (SMS, e-mail, in-app).")
    ] = False,
) -> None:
    """Deliver outbox messages to department systems and notifications to people (run one or
    more of these next to serve)."""
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
        report = dispatcher.dispatch_once(
            get_engine(), systems=systems, targets_only=notifications_only
        )
        console.print(vars(report))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print("dispatching; Ctrl-C stops after the current round")
    dispatcher.run(
        get_engine(),
        stop=stop,
        interval=interval,
        systems=systems,
        targets_only=notifications_only,
    )


notify_app = typer.Typer(help="Notifications to applicants and officials.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("due-soon")
def notify_due_soon(
    within: Annotated[int, typer.Option(help="Working days ahead to look.")] = 2,
) -> None:
    """Warn officials of open cases whose promised time limit is near (once per case)."""
    from tongban.applications import service as applications_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        queued = applications_service.warn_due_soon(session, None, within_days=within)
    console.print(f"{queued} warning(s) queued")


@notify_app.command("counts")
def notify_counts() -> None:
    """Messages per event, channel and delivery status."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.notifications import service as notifications_service

    table = Table("event", "channel", "status", "messages")
    with unit_of_work() as session:
        for row in notifications_service.counts(session, None):
            table.add_row(row.event, row.channel.value, row.status.value, str(row.count))
    console.print(table)


# --- the sign-on provider (OpenID Connect) ----------------------------------------------------

oidc_app = typer.Typer(help="The sign-on provider (OpenID Connect).", no_args_is_help=True)
oidc_clients_app = typer.Typer(help="Relying parties: department systems and others.")
oidc_keys_app = typer.Typer(help="The keys that sign id_tokens.", no_args_is_help=True)
oidc_app.add_typer(oidc_clients_app, name="clients", no_args_is_help=True)
oidc_app.add_typer(oidc_keys_app, name="keys")
app.add_typer(oidc_app, name="oidc")


@oidc_clients_app.command("create")
def oidc_clients_create(
    name: Annotated[str, typer.Argument(help="Name shown to people, e.g. the system's name")],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Exact callback address (repeatable)")
    ],
    post_logout_redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--post-logout-redirect-uri", help="Where to return after sign-out"),
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="No secret (browser or mobile app); PKCE required")
    ] = False,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A scope it may ask for (repeatable); openid is implied"),
    ] = None,
    department: Annotated[
        str | None, typer.Option(help="Code of the department whose system this is")
    ] = None,
) -> None:
    """Register a relying party; prints its client_id and (once) its secret."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.identity.oidc import service as oidc_service

    _migrate()
    try:
        with unit_of_work() as session:
            registration = oidc_service.register_client(
                session,
                None,
                name=name,
                redirect_uris=redirect_uri,
                post_logout_redirect_uris=post_logout_redirect_uri or [],
                public=public,
                scopes=scope or ["openid", "profile"],
                department_code=department,
            )
            client = registration.client
            console.print(f"client_id:     {client.client_id}")
            if registration.secret:
                console.print(f"client_secret: {registration.secret}")
                console.print("[yellow]the secret is shown only now; store it safely[/yellow]")
            else:
                console.print("public client: no secret, PKCE (S256) required")
            console.print(f"scopes:        {' '.join(client.scopes)}")
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@oidc_clients_app.command("list")
def oidc_clients_list() -> None:
    """Every registered relying party."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service

    _migrate()
    table = Table("client_id", "name", "kind", "scopes", "redirect URIs", "active")
    with unit_of_work() as session:
        for client in oidc_service.list_clients(session, None):
            table.add_row(
                client.client_id,
                client.name,
                "public" if client.secret_hash is None else "confidential",
                " ".join(client.scopes),
                "\n".join(client.redirect_uris),
                "yes" if client.active else "no",
            )
    console.print(table)


@oidc_clients_app.command("deactivate")
def oidc_clients_deactivate(client_id: Annotated[str, typer.Argument()]) -> None:
    """Switch a relying party off: no more sign-ins, its tokens stop working."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.identity.oidc import service as oidc_service

    _migrate()
    try:
        with unit_of_work() as session:
            oidc_service.deactivate_client(session, None, client_id)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]deactivated {client_id}[/green]")


@oidc_keys_app.command("rotate")
def oidc_keys_rotate() -> None:
    """Sign with a new key from now on; the old one stays in the JWKS until its tokens expired."""
    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service

    _migrate()
    with unit_of_work() as session:
        key = oidc_service.rotate_signing_key(session, None)
        console.print(f"[green]now signing with {key.alg} key {key.kid}[/green]")


@oidc_keys_app.command("list")
def oidc_keys_list() -> None:
    """Signing keys: active, retired (still published), removed."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service
    from tongban.kit.clock import utcnow

    _migrate()
    now = utcnow()
    table = Table("kid", "alg", "created", "state")
    with unit_of_work() as session:
        for key in oidc_service.list_signing_keys(session, None):
            if key.retired_at is None:
                state = "signing"
            elif key.remove_after is not None and key.remove_after > now:
                state = f"retired, published until {key.remove_after:%Y-%m-%d %H:%M} UTC"
            else:
                state = "retired, removed from the JWKS"
            table.add_row(key.kid, key.alg, f"{key.created_at:%Y-%m-%d %H:%M}", state)
    console.print(table)


security_app = typer.Typer(help="Clearances, labels and master keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys for encryption at rest.", no_args_is_help=True)
app.add_typer(security_app, name="security")
security_app.add_typer(keys_app, name="keys")


@security_app.command("clearance")
def security_clearance(
    username: Annotated[str, typer.Argument()],
    clearance: Annotated[
        str | None, typer.Argument(help="grade or grade:compartment,… (omit to show)")
    ] = None,
) -> None:
    """Show or set an account's clearance. Setting it here is for bootstrapping a deployment;
    afterwards security administrators change clearances under dual control."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.security import service as security_service

    _migrate()
    try:
        with unit_of_work() as session:
            if clearance is None:
                console.print(security_service.clearance_of(session, None, username))
                return
            value = security_service.set_clearance(
                session, None, username=username, clearance=clearance
            )
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{username}: {value}")


@keys_app.command("rotate")
def keys_rotate(
    add_only: Annotated[
        bool,
        typer.Option(
            "--add-only",
            help="Add the new key without making it current (step one with several servers).",
        ),
    ] = False,
) -> None:
    """Make a new master key current; old keys stay for reading. Running servers pick up the
    changed key file by themselves. Then run `tongban security keys rewrap`."""
    from tongban.security import deployment

    ring = deployment.key_ring()
    new = ring.add_key(make_current=not add_only)
    path = deployment.save_key_ring(new)
    added = (set(new.keys) - set(ring.keys)).pop()
    console.print(f"added master key {added} to {path}; current: {new.current}")


@keys_app.command("use")
def keys_use(key_id: Annotated[str, typer.Argument()]) -> None:
    """Make a key already in the ring current (step two of a rotation with several servers)."""
    from tongban.errors import TongbanError
    from tongban.security import deployment

    try:
        path = deployment.save_key_ring(deployment.key_ring().with_current(key_id))
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"current master key: {key_id} ({path})")


@keys_app.command("rewrap")
def keys_rewrap(
    batch: Annotated[int, typer.Option(help="Applications per transaction.")] = 500,
) -> None:
    """Move every stored encrypted value to the current master key (only the small data keys
    are re-encrypted). Safe to interrupt and run again."""
    from rich.progress import Progress

    from tongban.applications import service as applications_service
    from tongban.db.session import unit_of_work

    _migrate()
    with unit_of_work() as session:
        total = applications_service.count_applications(session, None)
    after, moved = 0, 0
    with Progress(console=console) as progress:
        task = progress.add_task("rewrapping", total=total)
        while True:
            with unit_of_work() as session:
                last, seen, done = applications_service.rewrap_forms(
                    session, None, after_id=after, size=batch
                )
            if last is None:
                break
            after, moved = last, moved + done
            progress.advance(task, seen)
    console.print(f"{moved} value(s) moved to the current master key")


resources_app = typer.Typer(
    help="Master data: department records, entity resolution, authoritative sources, quality.",
    no_args_is_help=True,
)
app.add_typer(resources_app, name="resources")


@resources_app.command("import")
def resources_import(
    path: Annotated[
        Path, typer.Argument(help="A CSV file of records", exists=True, dir_okay=False)
    ],
    source: Annotated[str, typer.Option(help="The department the records come from")],
) -> None:
    """Load a department's records (CSV: local_id,name,sex,birth_date,id_number,phone,address).
    A file with a wrong line loads nothing and names every wrong line."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.resources import service as resources_service
    from tongban.resources.schemas import read_record_csv

    _migrate()
    try:
        rows = read_record_csv(path.read_text(encoding="utf-8"))
        with unit_of_work() as session:
            result = resources_service.import_records(session, None, source=source, rows=rows)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"[green]{result.created} new, {result.updated} updated[/green], "
        f"{result.flagged} with a malformed ID number (kept, flagged)"
    )


@resources_app.command("resolve")
def resources_resolve() -> None:
    """Link department records into persons; unsure pairs go to the review queue."""
    from tongban.db.session import unit_of_work
    from tongban.resources import service as resources_service

    _migrate()
    with unit_of_work() as session:
        result = resources_service.resolve(session, None)
    console.print(
        f"{result.records} records, {result.pairs_scored} pairs scored, {result.linked} linked, "
        f"{result.new_persons} new persons, {result.reviews_opened} reviews opened "
        f"in {result.seconds} s"
    )


@resources_app.command("train")
def resources_train(
    out: Annotated[Path, typer.Option(help="Where to write the model (JSON)")],
    synthetic: Annotated[
        int, typer.Option(help="Train on this many synthetic records instead of the database's")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
) -> None:
    """Train the linkage model (u by random sampling, m by EM; no labels) and save it."""
    import json

    from tongban.db.session import unit_of_work
    from tongban.resources import linkage
    from tongban.resources import service as resources_service
    from tongban.resources import synthetic as synthetic_records

    if synthetic:
        model = linkage.train_model(synthetic_records.generate(synthetic, seed=seed), seed=seed)
    else:
        with unit_of_work() as session:
            model = resources_service.train_model(session, None, seed=seed)
    out.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(f"[green]model written to {out}[/green]")


@resources_app.command("elements")
def resources_elements(
    path: Annotated[
        Path | None, typer.Argument(help="Data elements YAML (default: the built-in one)")
    ] = None,
) -> None:
    """Load the data elements with their authoritative departments and subscribers."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.kit import datafiles
    from tongban.resources import service as resources_service
    from tongban.resources.errors import RecordFileInvalid
    from tongban.resources.schemas import ElementSpec

    _migrate()
    try:
        specs = datafiles.load_yaml(
            path or resources_service.elements_file(), list[ElementSpec], RecordFileInvalid
        )
        with unit_of_work() as session:
            count = resources_service.load_elements(session, None, specs)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]{count} data elements loaded[/green]")


@resources_app.command("quality")
def resources_quality() -> None:
    """Data quality figures per department and element, as CSV on standard output."""
    from tongban.db.session import unit_of_work
    from tongban.resources import quality
    from tongban.resources import service as resources_service

    with unit_of_work() as session:
        figures = resources_service.quality_figures(session, None)
    typer.echo(quality.to_csv(figures), nl=False)


exchange_app = typer.Typer(help="The data sharing exchange.", no_args_is_help=True)
app.add_typer(exchange_app, name="exchange")


@exchange_app.command("load")
def exchange_load(
    path: Annotated[Path, typer.Argument(help="A YAML file of resources, or a CSV of items")],
) -> None:
    """Register or update information resources from a file; all or nothing."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.exchange import files
    from tongban.exchange import service as exchange_service

    _migrate()
    try:
        specs = files.read(path)
        with unit_of_work() as session:
            report = exchange_service.register_resources(session, None, specs)
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(vars(report))


@exchange_app.command("resources")
def exchange_resources(text: Annotated[str | None, typer.Argument()] = None) -> None:
    """List the catalog's resources (matching TEXT)."""
    from tongban.db.session import unit_of_work
    from tongban.exchange import service as exchange_service

    with unit_of_work() as session:
        for resource in exchange_service.search(session, None, text=text):
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

    _migrate()
    try:
        with unit_of_work() as session:
            registration = exchange_service.issue_credentials(session, None, system_code=system)
            client_id = registration.client.client_id
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"client_id: {client_id}")
    console.print(f"client_secret: {registration.secret}")
    console.print("token: POST /oidc/token grant_type=client_credentials (HTTP Basic)")


# --- federation (commands in cli_federation.py) -----------------------------------------------

from tongban.cli_federation import federation_app  # noqa: E402

app.add_typer(federation_app, name="federation")

# --- licences (commands in cli_licences.py) --------------------------------------------------

from tongban.cli_licences import licences_app  # noqa: E402

app.add_typer(licences_app, name="licences")
analytics_app = typer.Typer(
    help="Service statistics: the Parquet export, figures, early warnings, demo cases.",
    no_args_is_help=True,
)
app.add_typer(analytics_app, name="analytics")


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

    _migrate()
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
            session, None, directory=directory, batch_size=batch_size, progress=progress
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

    _migrate()
    try:
        with unit_of_work() as session:
            report = analytics_service.generate_demo_cases(
                session, None, cases=cases, days=days, seed=seed, slow_department=slow_department
            )
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
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
        found = analytics_service.early_warnings(session, None, source=source)
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
