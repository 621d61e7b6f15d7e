"""Licence types, read from data files (one YAML file per type in ``data/``) and validated at
load: a wrong label or an unknown field is an error naming the file and line, not a broken
licence in a citizen's hands."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from tongban.kit import datafiles
from tongban.kit.i18n import LocalText
from tongban.licences.errors import LicenceTypeFileInvalid, LicenceTypeNotFound
from tongban.licences.schemas import LicenceTypeSpec
from tongban.security import deployment
from tongban.security.errors import LabelInvalid


def data_dir() -> Path:
    return Path(str(resources.files("tongban.licences").joinpath("data")))


def read_type(path: Path) -> LicenceTypeSpec:
    spec: LicenceTypeSpec = datafiles.load_yaml(path, LicenceTypeSpec, LicenceTypeFileInvalid)
    labels = [(f"fields.{n}.security_label", f.security_label) for n, f in enumerate(spec.fields)]
    labels += [
        ("holder.name_label", spec.holder.name_label),
        ("holder.id_number_label", spec.holder.id_number_label),
    ]
    for where, label in labels:
        try:
            deployment.scheme().parse_label(label)
        except LabelInvalid as exc:
            raise _invalid(path, where, str(exc)) from exc
    return spec


def read_dir(directory: Path) -> dict[str, LicenceTypeSpec]:
    found: dict[str, LicenceTypeSpec] = {}
    issuer: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        spec = read_type(path)
        if spec.code in found:
            raise _invalid(path, "code", f"duplicate licence type {spec.code}")
        for item in spec.issued_for:
            if item in issuer:
                raise _invalid(path, f"issued_for.{item}", f"{item} already issues {issuer[item]}")
            issuer[item] = spec.code
        found[spec.code] = spec
    return found


def _invalid(path: Path, where: str, problem: str) -> LicenceTypeFileInvalid:
    """The same message as a schema error: the file, the entry and its line."""
    loc = tuple(int(p) if p.isdigit() else p for p in where.split("."))
    line = datafiles.line_of(yaml.compose(path.read_text(encoding="utf-8")), loc)
    return LicenceTypeFileInvalid(
        "{path}, line {line}: {where}: {problem} ({count} problem(s) in all)",
        path=str(path),
        line=line,
        where=where,
        problem=problem,
        count=1,
    )


@lru_cache
def all_types() -> dict[str, LicenceTypeSpec]:
    return read_dir(data_dir())


def get(code: str) -> LicenceTypeSpec:
    spec = all_types().get(code)
    if spec is None:
        raise LicenceTypeNotFound("There is no licence type {code}.", code=code)
    return spec


def issued_by(item_code: str) -> LicenceTypeSpec | None:
    """The licence type an approval of ``item_code`` issues, if any."""
    return next((t for t in all_types().values() if item_code in t.issued_for), None)


def names() -> dict[str, LocalText]:
    """Every licence type's name, by code."""
    return {code: LocalText(spec.name_zh, spec.name_en) for code, spec in all_types().items()}
