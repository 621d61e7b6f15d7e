"""Bundles ("one thing, one go", 一件事一次办): answer a few questions, fill one merged form
and one merged material list, submit once; one linked application goes to each department,
covering that department's items of the bundle (its back office handles them together), an
application starts when the other departments' items it waits for are approved, and the
progress is shown as one.

The merged form is not stored here: its values go straight into the linked applications
(sealed there, read back through their disclosure), each getting the fields its items have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.errors import Incomplete
from tongban.applications.models import Application
from tongban.applications.states import Action, Status
from tongban.audit import service as audit
from tongban.bundles import files, policy, repository
from tongban.bundles.errors import BundleCaseNotFound, BundleNotFound, NotEligible
from tongban.bundles.models import BundleCase
from tongban.bundles.questionnaire import Walk, walk
from tongban.bundles.schemas import BundleSpec
from tongban.catalog import service as catalog_service
from tongban.catalog.cache import Snapshot
from tongban.catalog.schemas import FieldSpec, ItemRead
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.kit.i18n import LocalText
from tongban.licences import types as licence_types


def bundles_dir() -> Path:
    return Path(str(resources.files("tongban.bundles").joinpath("data")))


Signature = tuple[str, tuple[str, ...]]
# Per item: code, department code, fields, materials (code, the licence type standing in for
# it, file types) and the licence type it issues with the licence's fields.
Catalog = tuple[
    tuple[
        str,
        str,
        tuple[tuple[str, Signature], ...],
        tuple[tuple[str, str | None, tuple[str, ...]], ...],
        tuple[str, tuple[str, ...]] | None,
    ],
    ...,
]


@lru_cache(maxsize=8)
def _read(directory: Path, catalog: Catalog) -> tuple[BundleSpec, ...]:
    facts = {
        code: files.ItemFacts(
            fields=dict(signatures),
            materials={m: (licence, types) for m, licence, types in materials},
            issues=issues,
        )
        for code, _, signatures, materials, issues in catalog
    }
    departments = {code: department for code, department, *_ in catalog}
    return tuple(
        files.load(path, facts.get, departments.get) for path in sorted(directory.glob("*.yaml"))
    )


def _issues(item_code: str) -> tuple[str, tuple[str, ...]] | None:
    spec = licence_types.issued_by(item_code)
    return (spec.code, tuple(f.name for f in spec.fields)) if spec else None


def catalogue(
    session: Session, subject: Principal, directory: Path | None = None
) -> list[BundleSpec]:
    """Every bundle in the data files, each checked against the catalog's items (once for each
    version of the catalog, kept with it in memory)."""
    policy.require_read_bundles(subject)
    snapshot = catalog_service.published(session, subject)
    folder = directory or bundles_dir()
    return list(snapshot.memo(("bundles", folder), lambda: _read(folder, _signatures(snapshot))))


def _signatures(snapshot: Snapshot) -> Catalog:
    return tuple(
        (
            item.code,
            item.department.code,
            tuple((s.name, (s.type, tuple(o.value for o in s.options or []))) for s in item.fields),
            tuple((m.code, m.satisfied_by_licence, tuple(m.types)) for m in item.materials),
            _issues(item.code),
        )
        for item in snapshot.items
    )


@dataclass(frozen=True)
class Given:
    """What an item takes from an earlier item's result instead of asking for it."""

    name: str  # field name or material code
    what: LocalText  # its label or name
    source: ItemRead  # the item whose licence gives it
    # The licence's field a form field is filled from; None: a material, the licence itself.
    licence_field: str | None


@dataclass(frozen=True)
class Bundle:
    spec: BundleSpec
    items: dict[str, ItemRead]  # by key

    def departments(self) -> list[str]:
        return sorted({i.department.code for i in self.items.values()})

    def given(self, keys: Sequence[str]) -> dict[str, Given]:
        """What the items ``keys`` take from an earlier item's result instead of asking for
        it, by field name or material code."""
        found: dict[str, Given] = {}
        for entry in self.spec.items:
            if entry.key not in keys:
                continue
            item = self.items[entry.key]
            names = {f.name: LocalText(f.label_zh, f.label_en) for f in item.fields} | {
                m.code: LocalText(m.name_zh, m.name_en) for m in item.materials
            }
            for name, source in entry.from_results.items():
                key, _, value = source.partition(".")
                found[name] = Given(name, names[name], self.items[key], value or None)
        return found

    def results_for(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``given`` as a department's application keeps it (``applications.results``): form
        fields to fill from a licence field, materials the licence meets, by the issuing
        item's code."""
        given = self.given(keys).values()
        fields = {g.name: [g.source.code, g.licence_field] for g in given if g.licence_field}
        materials = {g.name: g.source.code for g in given if not g.licence_field}
        return {"fields": fields, "materials": materials} if given else {}

    def by_department(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """``keys`` grouped by their item's department, in the bundle's order: each group is
        one application, for its first item and covering the others."""
        groups: dict[str, list[str]] = {}
        for entry in self.spec.items:
            if entry.key in keys:
                groups.setdefault(self.items[entry.key].department.code, []).append(entry.key)
        return groups


def get_bundle(session: Session, subject: Principal, code: str) -> Bundle:
    policy.require_read_bundles(subject)
    spec = next((b for b in catalogue(session, subject) if b.code == code), None)
    if spec is None:
        raise BundleNotFound("There is no bundle {code}.", code=code)
    return Bundle(
        spec,
        {i.key: catalog_service.published_item(session, subject, i.item) for i in spec.items},
    )


def ask(
    session: Session, subject: Principal, code: str, answers: Mapping[str, str]
) -> tuple[Bundle, Walk]:
    """Where the answers so far lead: the next question, the items that apply, or an exit."""
    policy.require_read_bundles(subject)
    bundle = get_bundle(session, subject, code)
    return bundle, walk(bundle.spec, answers)


def start(
    session: Session, subject: Principal, *, code: str, answers: Mapping[str, str]
) -> BundleCase:
    """Open the bundle case: a linked draft per department, for its items that apply."""
    applicant = policy.require_file(subject)
    bundle, result = ask(session, subject, code, answers)
    if not result.done:
        raise NotEligible(
            "The answers do not lead to this bundle's items; see the questionnaire.",
            code=code,
        )
    # Once-only lookups first: they end the transaction they find open, so before any change.
    applications_service.look_up(
        session, subject, item_codes=[bundle.items[k].code for k in result.keys]
    )
    case = BundleCase(
        code=code,
        applicant_id=applicant.id,
        answers=dict(result.answered),
        numbers={},
        created_at=utcnow(),
    )
    session.add(case)
    session.flush()
    groups = bundle.by_department(result.keys)
    numbers: dict[str, str] = {}
    for keys in groups.values():
        draft = applications_service.start(session, subject, item_code=bundle.items[keys[0]].code)
        numbers.update(dict.fromkeys(keys, draft.number))
    entries = {i.key: i for i in bundle.spec.items}
    for keys in groups.values():
        number = numbers[keys[0]]
        # Within the department its back office keeps the order; across departments the
        # application waits (file checks keep departments from waiting for each other).
        before = {numbers[k] for key in keys for k in entries[key].after if k in numbers}
        applications_service.link_to_bundle(
            session,
            subject,
            number,
            bundle_case_id=case.id,
            waiting_for=sorted(before - {number}),
            covering=[bundle.items[k].code for k in keys[1:]],
            from_results=bundle.results_for(keys),
        )
    case.numbers = {k: numbers[k] for k in result.keys}
    _audit(
        session,
        applicant,
        "started",
        case,
        items=list(case.numbers),
        applications={d: numbers[keys[0]] for d, keys in groups.items()},
    )
    return case


def _audit(session: Session, actor: Account, action: str, case: BundleCase, **details: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"bundle.{action}",
        target_type="bundle_case",
        target_id=str(case.id),
        details={"bundle": case.code, **details},
    )


def _case(session: Session, case_id: int) -> BundleCase:
    case = repository.by_id(session, case_id)
    if case is None:
        raise BundleCaseNotFound("No bundle case {id} is open to you.", id=case_id)
    return case


@dataclass
class MergedMaterial:
    code: str
    name: LocalText
    required: bool
    # Acceptable to every item that asks for it.
    types: list[str]
    keys: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Merged:
    case: BundleCase
    bundle: Bundle
    applications: dict[str, Application]  # by key; a department's keys share one
    fields: list[FieldSpec]  # each asked once
    values: dict[str, Any]
    materials: list[MergedMaterial]
    missing: list[LocalText]
    # Not asked, by field name or material code: an earlier item's result gives it.
    given: dict[str, Given]

    @property
    def submitted(self) -> bool:
        return self.case.submitted_at is not None

    @property
    def completed(self) -> bool:
        return all(a.status is Status.COMPLETED for a in self.applications.values())

    @property
    def linked(self) -> list[Application]:
        """One per department, in the bundle's order."""
        return list({a.number: a for a in self.applications.values()}.values())

    def waiting(self, key: str) -> list[str]:
        """Keys of the items this one still waits for."""
        numbers = set(self.applications[key].waiting_for)
        return [k for k, a in self.applications.items() if a.number in numbers]


def merged(session: Session, subject: Principal, case_id: int) -> Merged:
    """The case as one form and one material list, with the linked applications."""
    case = _case(session, case_id)
    policy.require_own(subject, case)
    bundle = get_bundle(session, subject, case.code)
    by_number = {
        a.number: a for a in applications_service.bundle_applications(session, subject, case.id)
    }
    apps = {key: by_number[number] for key, number in case.numbers.items()}
    given = bundle.given(list(case.numbers))
    specs: dict[str, FieldSpec] = {}
    values: dict[str, Any] = {}
    materials: dict[str, MergedMaterial] = {}
    missing: list[LocalText] = []
    for key, application in apps.items():
        item = bundle.items[key]
        shown = applications_service.disclose(session, subject, application).values
        for spec in item.fields:
            if spec.name in given:
                continue
            specs.setdefault(spec.name, spec)
            if values.get(spec.name) in (None, "") and shown.get(spec.name) not in (None, ""):
                values[spec.name] = shown[spec.name]
        uploaded = {m.requirement_code: m.filename for m in application.materials}
        for requirement in item.materials:
            if requirement.code in given:
                continue
            entry = materials.get(requirement.code)
            if entry is None:
                entry = materials[requirement.code] = MergedMaterial(
                    requirement.code,
                    LocalText(requirement.name_zh, requirement.name_en),
                    requirement.required,
                    list(requirement.types),
                )
            else:
                entry.required = entry.required or requirement.required
                entry.types = [t for t in entry.types if t in requirement.types]
            entry.keys.append(key)
            if requirement.code in uploaded and uploaded[requirement.code] not in entry.files:
                entry.files.append(uploaded[requirement.code])
    for application in {a.number: a for a in apps.values()}.values():
        for gap in applications_service.missing(application):
            if gap not in missing:
                missing.append(gap)
    return Merged(
        case,
        bundle,
        apps,
        list(specs.values()),
        values,
        list(materials.values()),
        missing,
        given,
    )


def _refuse_given(
    session: Session, subject: Principal, case: BundleCase, names: Iterable[str], field: str
) -> None:
    """Refuse a value for what comes from an earlier item's result (``field``: where the error
    points; empty: at the value's own name)."""
    given = get_bundle(session, subject, case.code).given(list(case.numbers))
    for name in names:
        if name in given:
            source = given[name].source
            raise InvalidInput(
                "{what} is not asked for: it comes from the result of {item}.",
                field=field or name,
                what=given[name].what,
                item=LocalText(source.name_zh, source.name_en),
            )


def save_form(
    session: Session, subject: Principal, case_id: int, values: Mapping[str, Any]
) -> None:
    """Each linked application gets the fields its items have (a field several need, once)."""
    case = _case(session, case_id)
    applicant = policy.require_own(subject, case)
    _refuse_given(session, subject, case, values, "")
    known: set[str] = set()
    for number in dict.fromkeys(case.numbers.values()):
        application = applications_service.get(session, subject, number)
        names = {s.name for s in applications_service.case_fields(application)}
        known |= names
        part = {k: v for k, v in values.items() if k in names}
        applications_service.update_form(session, subject, number, part, merge=True)
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidInput("The form has no field named {name}.", field=unknown[0], name=unknown[0])
    _audit(session, applicant, "form_saved", case)


def add_material(
    session: Session,
    subject: Principal,
    case_id: int,
    *,
    requirement_code: str,
    filename: str,
    stream: BinaryIO,
) -> int:
    """One upload for every linked application that asks for this material; how many took it."""
    case = _case(session, case_id)
    applicant = policy.require_own(subject, case)
    _refuse_given(session, subject, case, [requirement_code], "requirement_code")
    taken = 0
    for number in dict.fromkeys(case.numbers.values()):
        application = applications_service.get(session, subject, number)
        if requirement_code in {r.code for r in applications_service.requirements(application)}:
            stream.seek(0)
            applications_service.add_material(
                session,
                subject,
                number,
                requirement_code=requirement_code,
                filename=filename,
                stream=stream,
            )
            taken += 1
    if not taken:
        raise InvalidInput(
            "This item asks for no material called {code}.",
            field="requirement_code",
            code=requirement_code,
        )
    _audit(session, applicant, "material_added", case, material=requirement_code)
    return taken


def submit(session: Session, subject: Principal, case_id: int) -> Merged:
    """One submission: everything must be complete (also for the items that start later); the
    items that wait for nothing are submitted now."""
    case = _case(session, case_id)
    applicant = policy.require_own(subject, case)
    whole = merged(session, subject, case_id)
    if whole.submitted:
        raise NotEligible("This bundle case has already been submitted.", code=case.code)
    if whole.missing:
        raise Incomplete(
            "Not yet complete: {what}.",
            what=LocalText(
                "、".join(m.zh for m in whole.missing), ", ".join(m.en for m in whole.missing)
            ),
        )
    for application in whole.linked:
        if not application.waiting_for:
            applications_service.act(session, subject, application.number, Action.SUBMIT)
    case.submitted_at = utcnow()
    _audit(session, applicant, "submitted", case)
    return merged(session, subject, case_id)


def my_cases(session: Session, subject: Principal) -> Sequence[BundleCase]:
    applicant = policy.require_file(subject)
    return repository.of_applicant(session, applicant.id)
