"""`tongban serve`, `dispatch`, `db` and `audit`: running the platform and checking it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator
from tongban.config import get_settings

if TYPE_CHECKING:
    from tongban.audit.checkpoints import Witnessed

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    migrate()
    console.print("[green]database is up to date[/green]")


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
            "in production run `tongban worker` beside it)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web processes (PostgreSQL only). Background work is `tongban worker`'s.",
        ),
    ] = 1,
) -> None:
    """Migrate the database, optionally load the demo, and serve the platform."""
    import atexit
    import shutil
    import tempfile

    import uvicorn

    from tongban import demo as demo_data
    from tongban.db.session import unit_of_work
    from tongban.kit.logs import logging_config

    if workers > 1 and get_settings().database_url.startswith("sqlite"):
        # SQLite takes one writer at a time, under a file lock the processes would queue on.
        console.print(
            "[red]--workers needs PostgreSQL[/red]: SQLite serves one process (set "
            "TONGBAN_DATABASE_URL=postgresql+psycopg://... for several)"
        )
        raise typer.Exit(2)
    # Every web process writes its metrics here; whichever answers /metrics sums them. Set
    # before the metrics load: prometheus-client reads it once, at import.
    metrics_dir = tempfile.mkdtemp(prefix="tongban-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # The folder lives as long as this server (its values mean nothing to the next one).
    atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    migrate()
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
                examples = demo_data.load_examples(session)
                master = examples.master
                console.print(
                    f"demo master data: {master.records} department records, "
                    f"{master.persons} persons, {master.reviews} pair(s) for the data steward "
                    f"(admin: /resources/reviews), {master.conflicts} conflict(s) for the "
                    "housing bureau (housing_officer: /resources/conflicts)"
                )
                console.print(
                    f"demo proactive service: the rules ran once, {examples.offers} offer(s) "
                    "(zhangsan, lisi: /me/offers)"
                )
                # Shown once, like any new client secret: the README says how to use it.
                console.print(
                    f"demo gateway: system {demo_data.DEMO_SYSTEM['code']} is granted "
                    f"{demo_data.DEMO_GRANT['resource']} for "
                    f"{demo_data.DEMO_GRANT['purpose']}; client id {examples.client_id}, "
                    f"secret {examples.client_secret}",
                    soft_wrap=True,
                )
            else:
                console.print("the database already has data; demo not loaded again")
    if demo and "payments_provider" not in get_settings().model_fields_set:
        # The demo takes fees through the simulated provider (its pages: /simulated-provider/).
        os.environ["TONGBAN_PAYMENTS_PROVIDER"] = "simulated"
        get_settings.cache_clear()
    if "public_url" not in get_settings().model_fields_set:
        # Unset, the address served is the public one: QR codes and the OIDC issuer follow
        # --host/--port. Behind a proxy or on another name, set TONGBAN_PUBLIC_URL.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["TONGBAN_PUBLIC_URL"] = f"http://{shown}:{port}"
        get_settings.cache_clear()
    console.print(
        f"tongban on {get_settings().public_url}/  (database {get_settings().database_url})"
    )
    import threading

    from tongban.audit import journal
    from tongban.db.engine import get_engine

    if workers > 1:
        # uvicorn's own supervisor, not gunicorn: no second server to install and configure,
        # the same command on every platform, and it restarts a worker that dies (SIGKILL).
        # Each worker builds the app itself (the factory); the settings reach it through the
        # environment, which it inherits.
        uvicorn.run(
            "tongban.web.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            proxy_headers=False,
            access_log=False,
            log_config=logging_config(),
        )
        return
    from tongban.web.app import create_app

    # One process: the audit journal reaches the chain moments after each commit, in batches,
    # in this process's own thread (with `tongban worker` beside it, they take turns).
    threading.Thread(
        target=journal.run, kwargs={"engine": get_engine(), "stop": threading.Event()}, daemon=True
    ).start()
    if demo if notifications is None else notifications:
        from tongban.integration import dispatcher

        # In-app messages and tracking codes then work in a one-process demo; the recording
        # senders write what SMS and e-mail would carry to sent-messages.jsonl in the data dir.
        threading.Thread(
            target=dispatcher.run,
            kwargs={"engine": get_engine(), "stop": threading.Event(), "targets_only": True},
            daemon=True,
        ).start()
    # X-Forwarded-For is read by the app, from TONGBAN_TRUSTED_PROXIES only (rate limits count
    # by client address), not by uvicorn from whatever 127.0.0.1 sends.
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        proxy_headers=False,
        access_log=False,
        log_config=logging_config(),
    )


@audit_app.command("verify")
def audit_verify(
    witness: Annotated[
        bool,
        typer.Option(
            help="Also check the chain against the checkpoints the parent node keeps as its "
            "witness (a federation node)."
        ),
    ] = False,
) -> None:
    """Check the whole hash chain, then the chain against every signed checkpoint: name an
    entry edited, deleted or moved, a rewrite, a fork, or entries missing after a checkpoint.
    Exit code 0: intact; 2: tampered; 3: behind its checkpoints (a restore or a truncation)."""
    from tongban.audit import checkpoints, journal
    from tongban.audit import service as audit_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        result = audit_service.verify(session)
        reports = [("", checkpoints.verify(session))]
        pending = journal.count_pending(session)
    if witness:
        reports.append(_witness_report())
    if not result.ok:
        console.print(
            f"[red]audit log broken at entry {result.first_bad_seq}[/red]: {result.problem} "
            f"({result.checked} entries before it verified)"
        )
    for source, witnessed in reports:
        for line in _checkpoint_report(witnessed, source):
            # One finding a line, however long: scripts and people search for its words.
            console.print(line, soft_wrap=True)
    if not result.ok or any(w.tampered for _, w in reports):
        raise typer.Exit(2)
    if any(w.behind for _, w in reports):
        raise typer.Exit(3)
    console.print(f"[green]audit log intact[/green]: {result.checked} entries verified")
    if pending:
        console.print(
            f"{pending} entr{'y' if pending == 1 else 'ies'} journaled, not yet in the chain "
            "(`tongban audit sequence` appends them; `tongban serve` and `tongban dispatch` do "
            "so as they run)"
        )
    else:
        console.print("no journaled entry waits to be sequenced")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries.")] = 50,
    action: Annotated[str, typer.Option(help="Only actions starting with this.")] = "",
) -> None:
    """The newest entries of the chain, newest first: when, who (an account's username, or a
    principal's kind and name: operator:alice, internal:<reason>, anonymous), what, on what."""
    from tongban.audit import service as audit_service
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        entries = audit_service.recent(session, operator(), limit=limit, action=action)
        for entry in entries:
            # Plain tab-separated lines: read by people, cut and grep alike.
            typer.echo(
                f"{entry.seq}\t{entry.at:%Y-%m-%d %H:%M:%S}\t{entry.actor}\t{entry.action}\t"
                f"{entry.target_type}:{entry.target_id}"
            )


@audit_app.command("sequence")
def audit_sequence() -> None:
    """Append every journaled entry to the hash chain now, in batches (what `tongban serve`
    and `tongban dispatch` do as they run)."""
    from tongban.audit import journal
    from tongban.db.engine import get_engine
    from tongban.db.session import sessions_for
    from tongban.errors import TongbanError

    migrate()
    try:
        sequenced = journal.sequence_batches(sessions_for(get_engine()))
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(
        f"{sequenced} journaled entr{'y' if sequenced == 1 else 'ies'} appended to the chain"
    )


def _witness_report() -> tuple[str, Witnessed]:
    """The chain compared with the checkpoints the parent node keeps for this one."""
    from tongban.audit import checkpoints
    from tongban.db.engine import get_engine
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.federation.witness import upstream

    try:
        parent, held = upstream.fetch_held(get_engine())
    except TongbanError as exc:
        raise fail(exc) from None
    valid = [checkpoint for checkpoint in held if checkpoint.valid()]
    with unit_of_work() as session:
        witnessed = checkpoints.compare(session, valid)
    witnessed.invalid_lines = [n for n, c in enumerate(held, start=1) if not c.valid()]
    return f" (held by the parent node {parent})", witnessed


def _checkpoint_report(witnessed: Witnessed, source: str) -> list[str]:
    from tongban.audit.checkpoints import format_time

    lines: list[str] = []
    if witnessed.no_key:
        lines.append(
            "[red]checkpoints cannot be checked[/red]: the checkpoint key file is missing "
            f"({get_settings().checkpoint_key_path})"
        )
    for number in witnessed.invalid_lines:
        lines.append(
            f"[red]checkpoint file altered[/red]: line {number} is not a checkpoint signed "
            "with this deployment's checkpoint key"
        )
    for first, second in witnessed.forks:
        lines.append(
            f"[red]audit log forked[/red]: two checkpoints signed for {first.size} entries "
            f"disagree (head {first.head[:16]}… at {format_time(first.at)}, "
            f"head {second.head[:16]}… at {format_time(second.at)})"
        )
    if witnessed.rewritten is not None:
        bad = witnessed.rewritten
        good = witnessed.matched
        since = (
            f"it still matches the checkpoint of {format_time(good.at)} at entry {good.size}, "
            f"so entries {good.size + 1}–{bad.size} were changed, removed or reordered"
            if good is not None
            else f"entries 1–{bad.size} were changed, removed or reordered"
        )
        lines.append(
            f"[red]audit log rewritten[/red]: entry {bad.size} does not have the head hash "
            f"signed in the checkpoint of {format_time(bad.at)}; {since}"
        )
    if witnessed.ahead is not None and witnessed.rewritten is None:
        ahead = witnessed.ahead
        good = witnessed.matched
        held = (
            f"entries 1–{good.size} match the checkpoint of {format_time(good.at)}"
            if good is not None
            else f"no checkpoint within the {witnessed.size} entries held vouches for them"
        )
        lines.append(
            f"[yellow]audit log behind its checkpoints[/yellow]: {witnessed.behind} entries "
            f"missing after entry {witnessed.size} (restore or truncation): the checkpoint "
            f"of {format_time(ahead.at)} covers {ahead.size} entries; {held}"
        )
    if witnessed.latest is None and witnessed.size and not witnessed.invalid_lines:
        lines.append(
            "no signed checkpoint yet: nothing outside the database vouches for the chain "
            "(`tongban audit checkpoint` signs one)"
        )
    elif witnessed.latest is not None and not witnessed.tampered and not witnessed.ahead:
        lines.append(
            f"{witnessed.checkpoints} signed checkpoint(s) match, the latest of "
            f"{format_time(witnessed.latest.at)} at entry {witnessed.latest.size}"
        )
    return [line + source for line in lines]


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the chain now (size, head hash, time) and add it to the checkpoint
    file, if the chain grew since the last one."""
    from tongban.audit import checkpoints
    from tongban.db.session import unit_of_work

    with unit_of_work() as session:
        signed = checkpoints.sign_now(session)
        latest = checkpoints.latest()
    if signed is not None:
        console.print(
            f"checkpoint signed: {signed.size} entries, head {signed.head} "
            f"({checkpoints.log_path()})"
        )
        return
    if latest is None:
        console.print("the audit log is empty; nothing to sign")
        return
    console.print(
        f"no new checkpoint: the last one, at entry {latest.size}, is current or the chain "
        "does not extend it (see `tongban audit verify`)"
    )


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

    from tongban.connectors import service as connectors_service
    from tongban.db.engine import get_engine
    from tongban.db.session import unit_of_work
    from tongban.integration import dispatcher

    migrate()
    systems = None
    if system:
        with unit_of_work() as session:
            systems = [
                connectors_service.get_system(session, operator(), code).id for code in system
            ]
    if once:
        from tongban.audit import checkpoints, journal
        from tongban.db.session import sessions_for

        report = dispatcher.dispatch_once(
            get_engine(), systems=systems, targets_only=notifications_only
        )
        console.print(vars(report))
        sequenced = journal.sequence_pending(sessions_for(get_engine()), wait=True)
        console.print(f"audit entries sequenced into the chain: {sequenced}")

        checkpoints.sign_periodically(sessions_for(get_engine()))
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
