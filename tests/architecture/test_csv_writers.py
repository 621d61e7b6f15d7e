"""Every CSV the platform writes goes through ``tongban.kit.csvfile``, which keeps cells from
running as spreadsheet formulas (CSV injection): a module writing CSV any other way fails here.

Three ways to write CSV are looked for outside the helper: the standard library's writers, a
CSV answer (``text/csv``) not made by ``web.responses``, whose CSV answers are made by the
helper, and lines typed or formatted by hand with commas."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import tongban

PACKAGE = Path(tongban.__file__).parent
HELPER = PACKAGE / "kit" / "csvfile.py"
CSV_ANSWERS = PACKAGE / "web" / "responses.py"
_WRITERS = {"writer", "DictWriter"}
_WRITES = {"writerow", "writerows", "writeheader"}
# A header line typed out: three or more bare names between commas.
_HEADER_LINE = re.compile(r"^\w+(,\w+){2,}\n?$")


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != HELPER:
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _dict_keys(tree: ast.AST) -> set[int]:
    return {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys}


def csv_written_by_hand(path: Path, tree: ast.Module) -> list[str]:
    found = []
    keys = _dict_keys(tree)  # {"text/csv": {}} in an OpenAPI declaration writes nothing
    for node in ast.walk(tree):
        where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            if _WRITERS & {a.name for a in node.names}:
                found.append(f"{where} imports a csv writer")
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "csv":
                if node.attr in _WRITERS:
                    found.append(f"{where} uses csv.{node.attr}")
            elif node.attr in _WRITES:
                found.append(f"{where} calls .{node.attr}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("text/csv") and path != CSV_ANSWERS and id(node) not in keys:
                found.append(f"{where} answers text/csv itself")
            elif _HEADER_LINE.match(node.value):
                found.append(f"{where} types a CSV line: {node.value!r}")
        elif isinstance(node, ast.JoinedStr) and _HEADER_LINE.match(_shape(node)):
            found.append(f"{where} formats a CSV line")
    return found


def _shape(node: ast.JoinedStr) -> str:
    """An f-string with each replacement field as ``v``: ``f"{a},{b},{c}"`` is ``v,v,v``."""
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "v" for part in node.values
    )


def test_no_module_writes_csv_but_through_the_helper() -> None:
    found = [problem for path, tree in _modules() for problem in csv_written_by_hand(path, tree)]
    assert found == [], "write CSV with tongban.kit.csvfile (or web.responses.csv_table)"


def test_the_check_sees_each_way_of_writing_csv() -> None:
    source = """
import csv
from csv import DictWriter
w = csv.writer(out)
w.writerow(["a"])
lines = ["source,element,records"]
line = f"{f.source},{f.element},{f.records}"
Response(body, media_type="text/csv")
"""
    found = csv_written_by_hand(PACKAGE / "x.py", ast.parse(source))
    assert len(found) == 6, found
    declared = 'router.get("/x", responses={200: {"content": {"text/csv": {}}}})'
    assert csv_written_by_hand(PACKAGE / "x.py", ast.parse(declared)) == []
