"""`tongban licences ...`: verify a licence PDF offline with a department's published key (no
database needed), and export a department's public key for that."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tongban.cli.common import operator

licences_app = typer.Typer(
    help="Electronic licences: verify offline, export keys.", no_args_is_help=True
)
console = Console(soft_wrap=True)


@licences_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The licence PDF", exists=True, dir_okay=False)],
    key: Annotated[
        Path,
        typer.Option(
            help="The issuing department's public key file (tongban licences export-key)",
            exists=True,
            dir_okay=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
) -> None:
    """Check a licence PDF's seal and signature against a published key, with no database.
    Exit status 0 when genuine and current, 1 otherwise. Revocation is only known online."""
    from tongban.errors import TongbanError
    from tongban.licences import keys, verification

    try:
        published = keys.parse_key_file(key.read_text(encoding="utf-8"))
    except TongbanError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    verdict = verification.offline(file.read_bytes(), published)
    if as_json:
        console.print_json(verdict.model_dump_json())
    else:
        colour = "green" if verdict.outcome == "genuine" else "red"
        console.print(f"[{colour}]{verdict.outcome.upper()}[/{colour}]: {verdict.message}")
        if verdict.licence is not None:
            lic = verdict.licence
            console.print(f"{lic.type_name_zh} {lic.number}")
            console.print(f"holder: {lic.holder_name} ({lic.holder_id_number})")
            console.print(f"issued by {lic.department_name} on {lic.issued_on}")
            console.print(f"expires: {lic.expires_on or 'never (until revoked)'}")
            for field in lic.fields:
                console.print(
                    f"  {field.label_zh}: {field.value if field.value is not None else '—'}"
                )
    raise typer.Exit(0 if verdict.outcome == "genuine" else 1)


@licences_app.command("export-key")
def export_key(
    department: Annotated[str, typer.Argument(help="Department code, e.g. SAMR")],
    out: Annotated[
        Path | None, typer.Option(help="Write the key file here (default: print)")
    ] = None,
) -> None:
    """Export a department's licence public keys (the newest last) as key files for offline
    verification; with several keys, one file per key id beside OUT."""
    from tongban.db.engine import get_engine
    from tongban.db.migrate import upgrade
    from tongban.db.session import unit_of_work
    from tongban.licences import service

    engine = get_engine()
    upgrade(engine)
    with unit_of_work(engine) as session:
        found = service.public_keys(session, operator(), department=department.upper())
    if not found:
        console.print(
            f"[red]Department {department} has no licence key yet: it gets one when it issues "
            "its first licence.[/red]"
        )
        raise typer.Exit(1)
    if out is None:
        for key in found:
            console.print(key.to_json())
        return
    targets = [out] if len(found) == 1 else [out.with_name(f"{k.key_id}.json") for k in found]
    for key, target in zip(found, targets, strict=True):
        target.write_text(key.to_json() + "\n", encoding="utf-8")
        console.print(f"{key.key_id} ({key.suite}) -> {target}")
