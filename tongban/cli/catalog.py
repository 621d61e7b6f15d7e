"""`tongban catalog ...`: the service catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

catalog_app = typer.Typer(help="The service catalog.", no_args_is_help=True)


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

    migrate()
    try:
        with unit_of_work() as session:
            report = catalog_service.load_catalog(session, operator(), directory)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(vars(report))
