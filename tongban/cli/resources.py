"""`tongban resources ...`: master data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.cli.common import console, fail, migrate, operator

resources_app = typer.Typer(
    help="Master data: department records, entity resolution, authoritative sources, quality.",
    no_args_is_help=True,
)


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

    migrate()
    try:
        rows = read_record_csv(path.read_text(encoding="utf-8"))
        with unit_of_work() as session:
            result = resources_service.import_records(session, operator(), source=source, rows=rows)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(
        f"[green]{result.created} new, {result.updated} updated[/green], "
        f"{result.flagged} with a malformed ID number (kept, flagged)"
    )


@resources_app.command("resolve")
def resources_resolve() -> None:
    """Link department records into persons; unsure pairs go to the review queue."""
    from tongban.db.session import unit_of_work
    from tongban.resources import service as resources_service

    migrate()
    with unit_of_work() as session:
        result = resources_service.resolve(session, operator())
    console.print(
        f"{result.records} records, {result.pairs_scored} pairs scored, {result.linked} linked, "
        f"{result.new_persons} new persons, {result.reviews_opened} reviews opened "
        f"in {result.seconds} s"
    )
    how = {
        "trained": "a model trained on these records",
        "prior": "the shipped model with the prior of these records",
        "model": "the shipped model as it is (too few records to estimate the prior)",
    }[result.model]
    console.print(f"scored on {result.engine} with {how} (prior {result.prior:.3g})")


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
            model = resources_service.train_model(session, operator(), seed=seed)
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
    from tongban.resources import service as resources_service

    migrate()
    try:
        specs = resources_service.read_elements(path)
        with unit_of_work() as session:
            count = resources_service.load_elements(session, operator(), specs)
    except TongbanError as exc:
        raise fail(exc) from None
    console.print(f"[green]{count} data elements loaded[/green]")


@resources_app.command("quality")
def resources_quality() -> None:
    """Data quality figures per department and element, as CSV on standard output."""
    from tongban.db.session import unit_of_work
    from tongban.kit import csvfile
    from tongban.resources import quality
    from tongban.resources import service as resources_service

    with unit_of_work() as session:
        figures = resources_service.quality_figures(session, operator())
    rows = quality.csv_rows(figures)
    typer.echo(csvfile.text(quality.CSV_COLUMNS, rows, bom=False), nl=False)
