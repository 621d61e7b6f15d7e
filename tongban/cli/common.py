"""What every command group shares: the console, migrating first, failing with a clear line."""

from __future__ import annotations

import typer
from rich.console import Console

from tongban.security.principals import Operator

console = Console()


def migrate() -> None:
    from tongban.db.engine import get_engine
    from tongban.db.migrate import upgrade

    upgrade(get_engine())


def fail(exc: Exception) -> typer.Exit:
    """Print a refused operation's own message (never a traceback) and exit 1."""
    console.print(f"[red]{exc}[/red]", soft_wrap=True)
    return typer.Exit(1)


def operator() -> Operator:
    """Who runs this command: the principal of every service call made from the command line."""
    return Operator.at_console()
