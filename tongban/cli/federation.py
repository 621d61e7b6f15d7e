"""`tongban federation ...`: a thin layer over the federation domain."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from tongban.cli.common import fail, migrate, operator

federation_app = typer.Typer(
    help="Federation with the national, provincial and city nodes above and below.",
    no_args_is_help=True,
)
nodes_app = typer.Typer(help="The node registry.", no_args_is_help=True)
log_app = typer.Typer(help="The message log (evidence of every message).", no_args_is_help=True)
federation_app.add_typer(nodes_app, name="nodes")
federation_app.add_typer(log_app, name="log")
# No wrapping: message ids and keys stay whole for copying and grep.
console = Console(soft_wrap=True)


@federation_app.command("init")
def init(
    code: Annotated[str, typer.Option(help="Region code (GB/T 2260), e.g. 330100")],
    name: Annotated[str, typer.Option(help="Name of the node, e.g. 杭州市")],
    level: Annotated[str, typer.Option(help="national, provincial or city")],
    url: Annotated[str, typer.Option(help="Where other nodes reach this one")],
    suite: Annotated[
        str | None,
        typer.Option(help="intl (Ed25519/SHA-256) or sm (SM2/SM3); default TONGBAN_CRYPTO_SUITE"),
    ] = None,
    parent: Annotated[str | None, typer.Option(help="Region code of the parent node")] = None,
    national_code: Annotated[str | None, typer.Option(help="The national node's code")] = None,
    national_url: Annotated[str | None, typer.Option(help="The national node's address")] = None,
    national_suite: Annotated[str, typer.Option(help="The national node's suite")] = "sm",
    national_key: Annotated[
        str | None, typer.Option(help="The national node's public key (hex), the trust anchor")
    ] = None,
) -> None:
    """Make this deployment a node: create its signing key (in the key file) and identity."""
    from pydantic import ValidationError

    from tongban.config import get_settings
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service
    from tongban.federation.schemas import NodeSpec

    migrate()
    # The node signs in the deployment's suite unless told otherwise.
    suite = suite or get_settings().crypto_suite
    try:
        node = NodeSpec(
            code=code,
            name=name,
            level=level,
            parent=parent,
            url=url,
            suite=suite,
            public_key="00",  # replaced by the key made for it
        )
        national = None
        if national_code and national_url and national_key:
            national = NodeSpec(
                code=national_code,
                name="national",
                level="national",
                url=national_url,
                suite=national_suite,
                public_key=national_key,
            )
        with unit_of_work() as session:
            local = federation_service.init_node(session, operator(), node=node, national=national)
            console.print(f"[green]node {local.code} ({local.level.value}) ready[/green]")
            console.print(f"suite:      {local.suite}")
            console.print(f"public key: {local.public_key}")
    except (TongbanError, ValidationError) as exc:
        raise fail(exc) from None


@federation_app.command("identity")
def identity(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """This node's code, level, parent, suite and public key."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service

    try:
        with unit_of_work() as session:
            local = federation_service.local_node(session, operator())
    except TongbanError as exc:
        raise fail(exc) from None
    data = {
        "code": local.code,
        "name": local.name,
        "level": local.level.value,
        "parent": local.parent_code,
        "url": local.url,
        "suite": local.suite,
        "public_key": local.public_key,
    }
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            console.print(f"{key + ':':12}{value}")


@nodes_app.command("add")
def nodes_add(
    code: Annotated[str, typer.Argument(help="Region code of the node")],
    name: Annotated[str, typer.Option(help="Name of the node")],
    level: Annotated[str, typer.Option(help="provincial or city")],
    parent: Annotated[str, typer.Option(help="Region code of its parent")],
    url: Annotated[str, typer.Option(help="Its address")],
    suite: Annotated[str, typer.Option(help="Its crypto suite")],
    public_key: Annotated[str, typer.Option(help="Its public key (hex)")],
) -> None:
    """Add or update a node and publish the new registry (at the national node)."""
    from pydantic import ValidationError

    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service
    from tongban.federation.schemas import NodeSpec

    try:
        spec = NodeSpec(
            code=code,
            name=name,
            level=level,
            parent=parent,
            url=url,
            suite=suite,
            public_key=public_key.lower(),
        )
        with unit_of_work() as session:
            federation_service.add_node(session, operator(), spec)
            version = federation_service.current_registry(session, operator())
        console.print(
            f"[green]{code} added; registry version {version.version if version else '?'}[/green]"
        )
    except (TongbanError, ValidationError) as exc:
        raise fail(exc) from None


@nodes_app.command("list")
def nodes_list() -> None:
    """The nodes in the registry this node holds."""
    from tongban.db.session import unit_of_work
    from tongban.federation import service as federation_service

    with unit_of_work() as session:
        for node in federation_service.list_nodes(session, operator()):
            state = "" if node.active else " (left)"
            console.print(
                f"{node.code}\t{node.level.value}\t{node.parent_code or '-'}\t{node.suite}\t"
                f"{node.url}\t{node.name}{state}"
            )


@federation_app.command("sso-link")
def sso_link() -> None:
    """Get (again) this node's sign-on client from its parent with a signed request: people
    can then sign in here through the parent's platform. `tongban federation run` does this by
    itself until it has one; run this to replace its secret."""
    from tongban.db.engine import get_engine
    from tongban.errors import TongbanError
    from tongban.federation.sso import link

    try:
        client_id = link.link(get_engine())
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"[green]sign-on client {client_id} at the parent node saved[/green]")


@federation_app.command("refresh")
def refresh(
    source: Annotated[
        str | None, typer.Option(help="Fetch from this node instead of the national one")
    ] = None,
) -> None:
    """Fetch the registry; keep the copy held if the top cannot be reached or the copy is bad."""
    from tongban.db.engine import get_engine
    from tongban.errors import TongbanError
    from tongban.federation import delivery

    try:
        report = delivery.refresh_registry(get_engine(), source=source)
    except TongbanError as exc:
        raise fail(exc) from None
    colour = "green" if report.outcome in ("updated", "unchanged") else "yellow"
    console.print(f"[{colour}]registry {report.outcome}[/{colour}]: version {report.version}")
    if report.detail:
        console.print(report.detail)
    if report.outcome == "refused":
        raise typer.Exit(2)


@federation_app.command("send")
def send(
    to: Annotated[str, typer.Option(help="Region code of the receiving node")],
    body: Annotated[str, typer.Option(help="A JSON object")] = "{}",
    message_type: Annotated[str, typer.Option("--type", help="Message type")] = "note",
) -> None:
    """Queue a signed message to another node (delivered by `tongban federation run`)."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service

    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        with unit_of_work() as session:
            message = federation_service.send(
                session, operator(), to=to, message_type=message_type, body=data
            )
    except (TongbanError, ValueError) as exc:
        raise fail(exc) from None
    console.print(f"queued {message.message_id}")


@federation_app.command("run")
def run(
    once: Annotated[bool, typer.Option(help="Deliver what is due now, then stop.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds to wait when nothing is due.")] = 1.0,
) -> None:
    """Deliver messages to other nodes and keep the registry fresh (run next to serve)."""
    import signal
    import threading

    from tongban.db.engine import get_engine
    from tongban.federation import delivery

    migrate()
    if once:
        console.print(vars(delivery.deliver_once(get_engine())))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print("delivering to other nodes; Ctrl-C stops after the current round")
    delivery.run(get_engine(), stop=stop, interval=interval)


@federation_app.command("status")
def status() -> None:
    """This node, the registry version it holds, and the outbox to each peer."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service

    try:
        with unit_of_work() as session:
            result = federation_service.status(session, operator())
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"node {result.node.code} ({result.node.level.value}, {result.node.suite})")
    console.print(
        f"registry version {result.registry_version} ({result.registry_received_at or '-'})"
    )
    for (recipient, state), count in sorted(result.outbox.items()):
        console.print(f"to {recipient}: {count} {state.value}")


@log_app.command("verify")
def log_verify() -> None:
    """Check every logged message's signature and body against what is stored."""
    from tongban.db.session import unit_of_work
    from tongban.federation import service as federation_service

    with unit_of_work() as session:
        result = federation_service.verify_log(session, operator())
    if result.ok:
        console.print(f"[green]message log intact[/green]: {result.checked} messages verified")
        return
    for row_id, message_id, problem in result.problems:
        console.print(f"[red]entry {row_id} (message {message_id}): {problem}[/red]")
    console.print(f"{len(result.problems)} of {result.checked} entries fail")
    raise typer.Exit(2)


catalog_app = typer.Typer(help="The catalog across levels.", no_args_is_help=True)
federation_app.add_typer(catalog_app, name="catalog")


@catalog_app.command("sync")
def catalog_sync() -> None:
    """Send what changed in this node's catalog down to the nodes below and up to the parent
    (`tongban federation run` does this on its own now and then)."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation.catalog import service as catalog_federation

    try:
        with unit_of_work() as session:
            report = catalog_federation.sync(session, operator())
    except TongbanError as exc:
        raise fail(exc) from None
    for peer, count in sorted(report.sent.items()):
        console.print(f"to {peer}: {count} item(s), {report.withdrawn.get(peer, 0)} withdrawn")
    if not report.sent:
        console.print("nothing changed since the last sync")


@catalog_app.command("local")
def catalog_local(
    item: Annotated[str, typer.Argument(help="Item code")],
    promised_days: Annotated[
        int | None, typer.Option(help="This node's time limit in working days")
    ] = None,
    counter: Annotated[
        list[str] | None, typer.Option(help="A local counter's address (repeatable)")
    ] = None,
) -> None:
    """Set this node's additions to an item: a local time limit, local counters."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation.catalog import service as catalog_federation

    try:
        with unit_of_work() as session:
            catalog_federation.set_local_addition(
                session,
                operator(),
                item_code=item,
                promised_days=promised_days,
                counters=counter or [],
            )
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"[green]local additions to {item} set[/green]")


@catalog_app.command("search")
def catalog_search(text: Annotated[str, typer.Argument(help="Code or name")] = "") -> None:
    """Items of this node and of every node below it."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation.catalog import service as catalog_federation

    try:
        with unit_of_work() as session:
            hits = catalog_federation.search(session, operator(), text=text or None)
    except TongbanError as exc:
        raise fail(exc) from None
    for hit in hits:
        console.print(
            f"{hit.node_code}\t{hit.item_code}\tfrom {hit.origin_code}\t"
            f"{hit.promised_days}d\t{hit.name_zh}"
        )


@federation_app.command("dead")
def dead() -> None:
    """Messages to other nodes given up on, with their last error."""
    from tongban.db.session import unit_of_work
    from tongban.federation import service as federation_service

    with unit_of_work() as session:
        for message in federation_service.dead_messages(session, operator()):
            console.print(
                f"{message.message_id}\tto {message.recipient}\t{message.message_type}\t"
                f"attempts={message.attempts}\t{message.last_error[:100]}"
            )


@federation_app.command("retry")
def retry(message_id: Annotated[str, typer.Argument(help="Id of a dead message")]) -> None:
    """Send a dead message again, from a fresh retry budget."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation import service as federation_service

    try:
        with unit_of_work() as session:
            federation_service.retry_message(session, operator(), message_id)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"[green]{message_id} will be sent again[/green]")
