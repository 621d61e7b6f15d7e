"""`tongban security ...`: clearances, labels and master keys."""

from __future__ import annotations

from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

security_app = typer.Typer(help="Clearances, labels and master keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys for encryption at rest.", no_args_is_help=True)
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

    migrate()
    try:
        with unit_of_work() as session:
            if clearance is None:
                console.print(security_service.clearance_of(session, operator(), username))
                return
            value = security_service.set_clearance(
                session, operator(), username=username, clearance=clearance
            )
    except TongbanError as exc:
        raise fail(exc) from None
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
        raise fail(exc) from None
    console.print(f"current master key: {key_id} ({path})")


@keys_app.command("rewrap")
def keys_rewrap(
    batch: Annotated[int, typer.Option(help="Applications per transaction.")] = 500,
) -> None:
    """Move every stored encrypted value and secret to the current master key (only the small
    data keys are re-encrypted). Safe to interrupt and run again."""
    from rich.progress import Progress

    from tongban.applications import service as applications_service
    from tongban.db.session import unit_of_work
    from tongban.security import service as security_service

    migrate()
    with unit_of_work() as session:
        total = applications_service.count_applications(session, operator())
    after, moved = 0, 0
    with Progress(console=console) as progress:
        task = progress.add_task("rewrapping", total=total)
        while True:
            with unit_of_work() as session:
                last, seen, done = applications_service.rewrap_forms(
                    session, operator(), after_id=after, size=batch
                )
            if last is None:
                break
            after, moved = last, moved + done
            progress.advance(task, seen)
    with unit_of_work() as session:
        secrets_moved = security_service.rewrap_secrets(session, operator())
    console.print(f"{secrets_moved} stored secret(s) moved to the current master key")
    console.print(f"{moved} value(s) moved to the current master key")
