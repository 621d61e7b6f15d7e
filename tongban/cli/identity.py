"""`tongban accounts|companies|oidc ...`: accounts, legal persons and the sign-on provider."""

from __future__ import annotations

from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

accounts_app = typer.Typer(
    help="Accounts of officials and administrators, and their authenticators.",
    no_args_is_help=True,
)


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

    migrate()
    try:
        account_kind = AccountKind(kind)
    except ValueError:
        console.print(f"[red]kind must be one of: {', '.join(k.value for k in AccountKind)}[/red]")
        raise typer.Exit(1) from None
    try:
        with unit_of_work() as session:
            department_id = (
                catalog_service.get_department(session, operator(), department).id
                if department
                else None
            )
            account = identity_service.create_account(
                session,
                operator(),
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
        raise fail(exc) from None


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

    migrate()
    try:
        with unit_of_work() as session:
            result = identity_service.operator_totp(
                session, operator(), username=username, reset=reset
            )
    except TongbanError as exc:
        raise fail(exc) from None
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

    migrate()
    try:
        with unit_of_work() as session:
            legal_person = companies_service.register_legal_person(
                session, operator(), uscc=uscc, name=name, representative=representative
            )
            console.print(
                f"[green]registered {legal_person.name} ({legal_person.uscc}); legal "
                f"representative {representative}[/green]"
            )
    except TongbanError as exc:
        raise fail(exc) from None


oidc_app = typer.Typer(help="The sign-on provider (OpenID Connect).", no_args_is_help=True)
oidc_clients_app = typer.Typer(help="Relying parties: department systems and others.")
oidc_keys_app = typer.Typer(help="The keys that sign id_tokens.", no_args_is_help=True)
oidc_app.add_typer(oidc_clients_app, name="clients", no_args_is_help=True)
oidc_app.add_typer(oidc_keys_app, name="keys")


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

    migrate()
    try:
        with unit_of_work() as session:
            registration = oidc_service.register_client(
                session,
                operator(),
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
        raise fail(exc) from None


@oidc_clients_app.command("list")
def oidc_clients_list() -> None:
    """Every registered relying party."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service

    migrate()
    table = Table("client_id", "name", "kind", "scopes", "redirect URIs", "active")
    with unit_of_work() as session:
        for client in oidc_service.list_clients(session, operator()):
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

    migrate()
    try:
        with unit_of_work() as session:
            oidc_service.deactivate_client(session, operator(), client_id)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"[green]deactivated {client_id}[/green]")


@oidc_keys_app.command("rotate")
def oidc_keys_rotate() -> None:
    """Sign with a new key from now on; the old one stays in the JWKS until its tokens expired."""
    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service

    migrate()
    with unit_of_work() as session:
        key = oidc_service.rotate_signing_key(session, operator())
        console.print(f"[green]now signing with {key.alg} key {key.kid}[/green]")


@oidc_keys_app.command("list")
def oidc_keys_list() -> None:
    """Signing keys: active, retired (still published), removed."""
    from rich.table import Table

    from tongban.db.session import unit_of_work
    from tongban.identity.oidc import service as oidc_service
    from tongban.kit.clock import utcnow

    migrate()
    now = utcnow()
    table = Table("kid", "alg", "created", "state")
    with unit_of_work() as session:
        for key in oidc_service.list_signing_keys(session, operator()):
            if key.retired_at is None:
                state = "signing"
            elif key.remove_after is not None and key.remove_after > now:
                state = f"retired, published until {key.remove_after:%Y-%m-%d %H:%M} UTC"
            else:
                state = "retired, removed from the JWKS"
            table.add_row(key.kid, key.alg, f"{key.created_at:%Y-%m-%d %H:%M}", state)
    console.print(table)
