"""`tongban proactive ...`: run the proactive service rules from cron or a systemd timer,
confirm a run the mass-offer guard held, list runs, check rule files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

from tongban.cli.common import fail, migrate, operator

proactive_app = typer.Typer(
    help="Proactive service (主动服务、免申即享): rules that offer services before people ask.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)

RulesDir = Annotated[
    Path | None,
    typer.Option("--rules", help="Rule folder (default TONGBAN_PROACTIVE_RULES_DIR or packaged)."),
]


def _bar() -> Progress:
    return Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _per_rule(bar: Progress) -> Callable[[str, int, int], None]:
    """A progress callback drawing one bar per rule."""
    tasks: dict[str, TaskID] = {}

    def progress(code: str, done: int, todo: int) -> None:
        if code not in tasks:
            tasks[code] = bar.add_task(code, total=max(todo, 1))
        bar.update(tasks[code], completed=done)

    return progress


def _print(outcomes: list[object]) -> None:
    from tongban.proactive.service import RunOutcome

    for outcome in outcomes:
        assert isinstance(outcome, RunOutcome)
        if outcome.status.value == "pending":
            console.print(
                f"[yellow]{outcome.rule}: held as run {outcome.run_id}[/yellow] — "
                f"{outcome.candidates} of {outcome.population} would be reached; confirm with "
                f"`tongban proactive confirm {outcome.run_id}`"
            )
        else:
            granted = f", {outcome.granted} granted without application" if outcome.granted else ""
            console.print(f"{outcome.rule}: {outcome.offers} new offer(s){granted}")


@proactive_app.command("run")
def proactive_run(
    rule: Annotated[list[str] | None, typer.Option(help="Only this rule (repeatable).")] = None,
    rules: RulesDir = None,
    today: Annotated[
        str | None, typer.Option(help="Evaluate as of this day (YYYY-MM-DD), e.g. to catch up.")
    ] = None,
) -> None:
    """Evaluate every rule over the whole population, make and send the new offers."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.proactive import service

    migrate()
    try:
        with _bar() as bar, unit_of_work() as session:
            outcomes = service.run(
                session,
                operator(),
                only=rule or (),
                directory=rules,
                today=date.fromisoformat(today) if today else None,
                progress=_per_rule(bar),
            )
    except (TongbanError, ValueError) as exc:
        raise fail(exc) from None
    _print(list(outcomes))


@proactive_app.command("confirm")
def proactive_confirm(
    run_id: Annotated[int, typer.Argument(help="The held run's number.")],
    rules: RulesDir = None,
) -> None:
    """Send a run the mass-offer guard held (after checking the rule is right)."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.proactive import service

    migrate()
    try:
        with _bar() as bar, unit_of_work() as session:
            outcome = service.confirm(
                session, operator(), run_id, directory=rules, progress=_per_rule(bar)
            )
    except TongbanError as exc:
        raise fail(exc) from None
    _print([outcome])


@proactive_app.command("runs")
def proactive_runs(
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 20,
) -> None:
    """The latest runs: held ones wait for `tongban proactive confirm RUN`."""
    from tongban.db.session import unit_of_work
    from tongban.proactive import service

    migrate()
    with unit_of_work() as session:
        for run in service.list_runs(session, operator(), limit=limit):
            console.print(
                f"{run.id}\t{run.rule}\t{run.status.value}\t{run.candidates}/{run.population}\t"
                f"{run.offers} offer(s)\t{run.started_at:%Y-%m-%d %H:%M}"
            )


@proactive_app.command("check")
def proactive_check(rules: RulesDir = None) -> None:
    """Load and check every rule file against the catalog and master data."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.proactive.rules import load_rules

    migrate()
    try:
        with unit_of_work() as session:
            loaded = load_rules(session, rules)
    except TongbanError as exc:
        raise fail(exc) from None
    for rule in loaded:
        offered = rule.spec.offer.item or rule.spec.offer.bundle
        kind = "grant" if rule.spec.grant else "offer"
        console.print(f"{rule.code}\t{rule.spec.trigger.kind}\t{kind} {offered}\t{rule.path.name}")


@proactive_app.command("demo")
def proactive_demo() -> None:
    """Register master data for the demo accounts (a demo database only): 张三 and 李四 with a
    newborn child, 张三's shop with a licence ending soon and its first employee. Then run
    `tongban proactive run` and sign in as zhangsan to see the offers at /me/offers."""
    from tongban.db.session import unit_of_work
    from tongban.errors import TongbanError
    from tongban.proactive import demo

    migrate()
    try:
        with unit_of_work() as session:
            report = demo.load(session, operator())
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(
        f"{report.persons} person(s), {report.births} birth(s), {report.companies} company(ies)"
    )
