"""Resource catalog files: YAML (a list of resources with their items) or CSV (one row per
data item, the resource's columns repeated on each of its rows). Either loads whole or not at
all, naming the line or place at fault."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tongban.exchange.errors import ResourceFileInvalid
from tongban.exchange.schemas import ResourceSpec
from tongban.kit import datafiles
from tongban.security import deployment
from tongban.security.errors import LabelInvalid

RESOURCE_COLUMNS = (
    "code",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "department",
    "system",
    "store",
    "key",
    "update_frequency",
    "format",
    "open_data",
)
# In a CSV, these item columns hold lists, separated by ``;``.
LIST_COLUMNS = ("purposes",)


def read(path: Path) -> list[ResourceSpec]:
    specs = _read_csv(path) if path.suffix.lower() == ".csv" else _read_yaml(path)
    for index, spec in enumerate(specs):
        for place, item in enumerate(spec.items):
            try:
                deployment.scheme().parse_label(item.security_label)
            except LabelInvalid as exc:
                raise ResourceFileInvalid(
                    "{path}: {where}: {problem} ({count} problem(s) in all)",
                    path=str(path),
                    where=f"{index}.items.{place}.security_label",
                    problem=str(exc),
                    count=1,
                ) from exc
    return specs


def _read_yaml(path: Path) -> list[ResourceSpec]:
    specs: list[ResourceSpec] = datafiles.load_yaml(path, list[ResourceSpec], ResourceFileInvalid)
    return specs


def _read_csv(path: Path) -> list[ResourceSpec]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ResourceFileInvalid(
            "{path} cannot be read: {problem}", path=str(path), problem=str(exc)
        ) from exc
    resources: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        code = (row.get("code") or "").strip()
        resource = resources.setdefault(
            code,
            {k: v for k, v in row.items() if k in RESOURCE_COLUMNS and v not in (None, "")}
            | {"items": []},
        )
        first_line.setdefault(code, line)
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or not key.startswith("item_") or value in (None, ""):
                continue
            name = key.removeprefix("item_")
            item[name] = (
                [v.strip() for v in value.split(";") if v.strip()]
                if name in LIST_COLUMNS
                else value
            )
        resource["items"].append(item)
    specs = []
    adapter = TypeAdapter(ResourceSpec)
    for code, raw in resources.items():
        try:
            specs.append(adapter.validate_python(raw))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            line = first_line[code]
            if problem["loc"][:1] == ("items",) and len(problem["loc"]) > 1:
                line += int(problem["loc"][1])
            raise ResourceFileInvalid(
                "{path}: line {line}: {where}: {problem}",
                path=str(path),
                line=line,
                where=where,
                problem=problem["msg"],
            ) from exc
    return specs
