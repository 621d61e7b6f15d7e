"""Reading the rule files: the format (``schemas.RuleSpec``) plus what a schema cannot say — an
unknown item, bundle, form field or data element, a company rule offering a person's item —
each refused with the file and the line at fault, before any rule runs."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.bundles import service as bundles_service
from tongban.catalog import service as catalog_service
from tongban.catalog.errors import ItemNotFound
from tongban.catalog.models import ServiceItem
from tongban.config import get_settings
from tongban.kit import datafiles
from tongban.kit.i18n import N_, LocalText
from tongban.proactive.errors import RuleFileInvalid
from tongban.proactive.schemas import Constant, RuleSpec
from tongban.resources import life_events
from tongban.security.principals import Internal

Loc = tuple[str | int, ...]

# What a prefilled field may come from. A person: the register entry, their identifiers and
# the authoritative element values; a company: the register entry and its elements; the
# recipient: the account's verified identity.
PERSON_ELEMENTS = frozenset({"pid", "name", "sex", "birth_date", "id_number", "phone", "address"})
COMPANY_BASE = frozenset({"cid", "name", "uscc"})
RECIPIENT_ELEMENTS = frozenset({"name", "id_number", "phone"})


class _Problem(Exception):
    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    path: Path
    item: ServiceItem | None
    bundle_name: LocalText | None

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def offered_name(self) -> LocalText:
        if self.item is not None:
            return LocalText(self.item.name_zh, self.item.name_en)
        assert self.bundle_name is not None
        return self.bundle_name


def rules_dir() -> Path:
    configured = get_settings().proactive_rules_dir
    return configured or Path(str(resources.files("tongban.proactive").joinpath("data")))


def company_elements() -> frozenset[str]:
    return COMPANY_BASE | frozenset(life_events.company_elements())


def load_rules(session: Session, directory: Path | None = None) -> list[Rule]:
    """Every rule file (``*.yaml``) of ``directory``, each checked against the catalog, the
    bundles and the master data elements; two files may not share a code."""
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path in sorted((directory or rules_dir()).glob("*.yaml")):
        rule = load_rule(session, path)
        if rule.code in seen:
            raise RuleFileInvalid(
                N_("{path}, line {line}: {problem}"),
                path=str(path),
                line=1,
                problem=f"the code {rule.code} is also used by {seen[rule.code].name}",
            )
        seen[rule.code] = path
        rules.append(rule)
    return rules


def load_rule(session: Session, path: Path) -> Rule:
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise RuleFileInvalid(
            N_("{path} cannot be read: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    except yaml.YAMLError as exc:
        raise RuleFileInvalid(
            N_("{path} is not valid YAML: {problem}"), path=str(path), problem=str(exc)
        ) from exc
    try:
        spec = RuleSpec.model_validate(raw)
        item, bundle_name = _check(session, spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _refusal(path, root, tuple(first["loc"]), first["msg"]) from exc
    except _Problem as problem:
        raise _refusal(path, root, problem.loc, problem.message) from problem
    return Rule(spec, path, item, bundle_name)


def _refusal(path: Path, root: Any, loc: Loc, message: str) -> RuleFileInvalid:
    return RuleFileInvalid(
        N_("{path}, line {line}: {problem}"),
        path=str(path),
        line=datafiles.line_of(root, loc),
        problem=message,
    )


def _check(session: Session, spec: RuleSpec) -> tuple[ServiceItem | None, LocalText | None]:
    companies = company_elements()
    trigger = spec.trigger
    if trigger.kind in ("date_within", "count_reached"):
        element = getattr(trigger, "element", "")
        if element not in companies - COMPANY_BASE:
            raise _Problem(("trigger", "element"), f"there is no company data element {element}")
        kind = life_events.company_elements()[element].type
        wanted = "date" if trigger.kind == "date_within" else "integer"
        if kind != wanted:
            raise _Problem(("trigger", "element"), f"{element} is not a {wanted} but a {kind}")
    item: ServiceItem | None = None
    bundle_name: LocalText | None = None
    fields: set[str] = set()
    if spec.offer.item is not None:
        try:
            item = catalog_service.get_item(
                session, Internal("check a proactive rule's catalog item"), spec.offer.item
            )
        except ItemNotFound as exc:
            raise _Problem(
                ("offer", "item"), f"no service item has the code {spec.offer.item}"
            ) from exc
        wanted = "company" if spec.subject == "company" else "person"
        if item.audience not in (wanted, "both"):
            raise _Problem(("offer", "item"), f"{item.code} is not offered to a {wanted}")
        fields = {f.name for f in applications_service.field_specs(item)}
    else:
        bundle = next(
            (
                b
                for b in bundles_service.catalogue(
                    session, Internal("check a proactive rule's catalog item")
                )
                if b.code == spec.offer.bundle
            ),
            None,
        )
        if bundle is None:
            raise _Problem(("offer", "bundle"), f"there is no bundle {spec.offer.bundle}")
        if spec.prefill:
            raise _Problem(("prefill",), "a bundle's form is filled when it starts, not here")
        bundle_name = LocalText(bundle.name_zh, bundle.name_en)
    subject_elements = PERSON_ELEMENTS if spec.subject == "person" else companies
    for name, source in spec.prefill.items():
        if name not in fields:
            raise _Problem(("prefill", name), f"{spec.offer.item} has no form field {name}")
        if isinstance(source, Constant):
            continue
        side, _, element = source.partition(".")
        known = {"subject": subject_elements, "recipient": RECIPIENT_ELEMENTS}.get(side)
        if known is None:
            raise _Problem(
                ("prefill", name), "a source is subject.<element> or recipient.<element>"
            )
        if element not in known:
            raise _Problem(("prefill", name), f"there is no {side} data element {element}")
    return item, bundle_name
