"""What a reader sees of an application's form, and how the form is kept at rest.

Every read of form values goes through ``disclose`` (one application) or ``disclose_many`` (a
search or an export): it decides the reader's clearance — the applicant has their own data in
full, an official has what a security administrator cleared them for — and hands the values to
mandatory access control (``security.mac``), which masks or drops what the clearance does not
dominate.

At rest, values of fields labelled at or above the deployment's encryption grade are sealed:
stored as ``{"sealed": token}`` (envelope encryption, the token bound to the application number
and field name). The model's attribute is ``sealed_form`` so that no page or API can show the
stored form by mistake: what a reader sees comes from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications.models import Application
from tongban.applications.policy import is_owner
from tongban.catalog.models import ServiceItem
from tongban.catalog.schemas import FieldSpec
from tongban.identity.models import Account
from tongban.security import access, deployment, mac
from tongban.security.errors import DecryptionFailed
from tongban.security.labels import Clearance, Label, join
from tongban.security.mac import LabelledField, Schema

SEALED = "sealed"
# Shown in a list in place of a stored value that failed its integrity check.
UNREADABLE = "⚠"
# Columns every case listing shows beside the form: labelled like any field, at the bottom.
# ``items``: the codes of the items the case is for (a department application covers several).
CASE_COLUMNS = ("number", "items", "status", "submitted_at")


@dataclass(frozen=True)
class FormSchema:
    """An item's form fields with the labels in force."""

    fields: tuple[tuple[str, LabelledField], ...]
    sealed: frozenset[str]

    def labelled(self) -> Schema:
        return Schema(self.fields)

    def with_case_columns(self) -> Schema:
        public = LabelledField(deployment.scheme().public())
        return Schema(tuple((name, public) for name in CASE_COLUMNS) + self.fields)


@dataclass(frozen=True)
class Disclosed:
    """The form as one reader may see it."""

    values: dict[str, Any]
    # Shown as they are; the others are masked or absent.
    readable: frozenset[str]
    # Present (as they are or masked); a field not here is not shown at all.
    shown: frozenset[str]


@dataclass(frozen=True)
class PrefillState:
    """Where a prefilled field's value came from, and whether it is still that value."""

    source: str
    # The department system's name; None for the person's own verified identity.
    origin: str | None
    verified: bool


_SPECS = "_tongban_field_specs"


def field_specs(item: ServiceItem) -> list[FieldSpec]:
    # Asked several times a request (schema, completeness, prefill, evidence): validated once
    # per loaded item, again only if its ``fields`` were replaced.
    memo: tuple[object, list[FieldSpec]] | None = item.__dict__.get(_SPECS)
    if memo is None or memo[0] is not item.fields:
        memo = (item.fields, [FieldSpec.model_validate(f) for f in item.fields])
        item.__dict__[_SPECS] = memo
    return list(memo[1])


def form_schema(session: Session, item: ServiceItem) -> FormSchema:
    specs = field_specs(item)
    labels = access.field_labels(session, item.code, {s.name: s.security_label for s in specs})
    return _schema(tuple((s.name, labels[s.name], s.semantic_type) for s in specs))


def case_fields(application: Application) -> list[FieldSpec]:
    """The form of an application: its item's fields, then those of the items it covers
    (a field several items share is asked once; bundle files guarantee it means the same)."""
    specs: dict[str, FieldSpec] = {}
    for item in application.items:
        for spec in field_specs(item):
            specs.setdefault(spec.name, spec)
    return list(specs.values())


def case_schema(session: Session, application: Application) -> FormSchema:
    """The labelled form of an application; a field several covered items share carries the
    join of their labels, so it is never protected less than any one item asks."""
    if not application.covered:
        return form_schema(session, application.item)
    return _joined(session, application.items)


def listing_schema(
    session: Session, item: ServiceItem, applications: Sequence[Application]
) -> FormSchema:
    """One item's form as a listing of its cases reads it: a field that a listed case shares
    with another item it covers carries the join of their labels, as on the case page, so no
    listing shows it less protected."""
    own = form_schema(session, item)
    others = {i.id: i for a in applications for i in a.items if i.id != item.id}
    if not others:
        return own
    return _joined(session, [item, *others.values()], only={name for name, _ in own.fields})


def _joined(
    session: Session, items: Sequence[ServiceItem], only: set[str] | None = None
) -> FormSchema:
    """The fields of ``items`` (those named in ``only``), each once, labelled with the join of
    the labels the items give it."""
    fields: dict[str, tuple[Label, str]] = {}
    for item in items:
        for name, field in form_schema(session, item).fields:
            if only is not None and name not in only:
                continue
            earlier = fields.get(name)
            label = field.label if earlier is None else join(earlier[0], field.label)
            fields[name] = (label, field.semantic)
    return _schema(tuple((name, label, semantic) for name, (label, semantic) in fields.items()))


def clearance_of(session: Session, reader: Account, application: Application) -> Clearance:
    """The applicant reads their own application whole; anyone else by their clearance."""
    if is_owner(reader, application):
        return deployment.top_clearance()
    return access.clearance_for(session, reader)


def disclose(session: Session, reader: Account, application: Application) -> Disclosed:
    schema = case_schema(session, application)
    clearance = clearance_of(session, reader, application)
    plan = mac.plan(clearance, schema.labelled(), masker=deployment.masker())
    values = _known(schema, unseal(application.number, application.sealed_form))
    return Disclosed(plan.apply([values])[0], plan.readable, frozenset(plan.columns))


def disclose_to(session: Session, application: Application, clearance: Clearance) -> dict[str, Any]:
    """The form as a subject cleared ``clearance`` may see it: what a department system's copy
    of the case (the outbox payload) carries."""
    schema = case_schema(session, application)
    plan = mac.plan(clearance, schema.labelled(), masker=deployment.masker())
    return plan.apply([_known(schema, unseal(application.number, application.sealed_form))])[0]


def shown_items(session: Session, reader: Account, application: Application) -> list[str]:
    """The fields with a value that ``reader`` is shown (whole or masked), in form order: what a
    read of the case reveals, for its audit entry and the subject's "who used my data"."""
    schema = case_schema(session, application)
    plan = mac.plan(
        clearance_of(session, reader, application), schema.labelled(), masker=deployment.masker()
    )
    return [
        name for name, _ in schema.fields if name in plan.columns and has_value(application, name)
    ]


def has_value(application: Application, name: str) -> bool:
    """Whether the saved form has a value for ``name`` (without decrypting it)."""
    return application.sealed_form.get(name) not in (None, "", False)


def subject_refs(session: Session, application: Application) -> list[str]:
    """Keyed hashes of whose data the case holds: the applicant's ID number and, for a
    company's application, its unified social credit code."""
    refs = []
    applicant = session.get(Account, application.applicant_id)
    if applicant is not None and applicant.id_number:
        refs.append(deployment.subject_ref(applicant.id_number))
    if application.legal_person_id is not None:
        refs.append(deployment.subject_ref(application.legal_person.uscc))
    return refs


def prefill_states(
    application: Application, form: Mapping[str, Any] | None = None
) -> dict[str, PrefillState]:
    """Each prefilled field's state against the saved form (or ``form``, values typed on a
    page): what a badge or the API shows, never the values themselves."""
    values = unseal(application.number, application.sealed_form) if form is None else form
    return {
        name: PrefillState(entry["source"], entry.get("origin"), values.get(name) == entry["value"])
        for name, entry in unseal_prefill(application.number, application.prefill).items()
    }


@dataclass(frozen=True)
class CaseReading:
    """How one reader reads one item's cases, decided once per search: the schema with the
    case columns, the reader's clearance and the plan MAC made of them."""

    schema: Schema
    clearance: Clearance
    plan: mac.ReadPlan

    def require_usable(self, names: Iterable[str]) -> None:
        """Refuse a filter or sort on a field the reader may not read, or that does not exist."""
        mac.require_readable(self.clearance, self.schema, names, masker=deployment.masker())

    @property
    def usable(self) -> list[str]:
        """The fields (case columns first) the reader may filter and sort by, in form order."""
        return [name for name, _ in self.schema.fields if name in self.plan.readable]


def case_reading(
    session: Session, reader: Account, item: ServiceItem, applications: Sequence[Application]
) -> CaseReading:
    """How ``reader`` reads ``applications``, the cases of ``item`` a search lists."""
    schema = listing_schema(session, item, applications).with_case_columns()
    clearance = access.clearance_for(session, reader)
    return CaseReading(schema, clearance, mac.plan(clearance, schema, masker=deployment.masker()))


def disclose_many(
    reading: CaseReading,
    applications: Sequence[Application],
    *,
    where: Mapping[str, object] | None = None,
    order_by: Sequence[str] = (),
    descending: bool = False,
    broken: list[str] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Cases of one item as rows (case columns + form) the reader may see: filtered and sorted
    only by fields the reader may read, so the result's size and order tell nothing more.

    Returns the columns (in order) and the rows; values that failed their integrity check are
    named in ``broken``.
    """
    form_names = reading.schema.names - set(CASE_COLUMNS)
    records = [
        {
            "number": a.number,
            "items": ", ".join(i.code for i in a.items),
            "status": a.status.value,
            "submitted_at": a.submitted_at,
            **{
                k: v
                for k, v in unseal(a.number, a.sealed_form, broken=broken).items()
                if k in form_names
            },
        }
        for a in applications
    ]
    # mac.query checks the filter and sort fields again: the result never depends on a hidden one.
    rows = mac.query(
        reading.clearance,
        records,
        reading.schema,
        where=where,
        order_by=order_by,
        descending=descending,
        masker=deployment.masker(),
    )
    return list(reading.plan.columns), rows


# -- at rest -----------------------------------------------------------------------------------


def seal(schema: FormSchema, number: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """The form as stored: values of high-grade fields encrypted."""
    ring = deployment.key_ring() if schema.sealed else None
    stored: dict[str, Any] = {}
    for name, value in form.items():
        if ring is not None and name in schema.sealed and value is not None:
            token = ring.encrypt_field(_encode(value), aad=_aad(number, name))
            stored[name] = {SEALED: token}
        else:
            stored[name] = value
    return stored


def unseal(
    number: str, stored: Mapping[str, Any], *, broken: list[str] | None = None
) -> dict[str, Any]:
    """The form as the applicant gave it.

    A value that fails its integrity check raises ``DecryptionFailed``; with ``broken`` given
    (lists), it becomes ``UNREADABLE`` instead and its field is added to ``broken``, so one
    damaged record does not take a whole search down.
    """
    values: dict[str, Any] = {}
    ring = None
    for name, value in stored.items():
        if isinstance(value, dict) and SEALED in value:
            ring = ring or deployment.key_ring()
            try:
                values[name] = _decode(ring.decrypt_text(value[SEALED], aad=_aad(number, name)))
            except DecryptionFailed:
                if broken is None:
                    raise
                broken.append(f"{number}.{name}")
                values[name] = UNREADABLE
        else:
            values[name] = value
    return values


def seal_prefill(
    schema: FormSchema, number: str, prefill: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Prefilled entries as stored: their values sealed like the form's."""
    values = seal(schema, f"{number}:prefill", {k: e["value"] for k, e in prefill.items()})
    return {name: {**entry, "value": values[name]} for name, entry in prefill.items()}


def unseal_prefill(number: str, stored: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    values = unseal(f"{number}:prefill", {k: e["value"] for k, e in stored.items()})
    return {name: {**entry, "value": values[name]} for name, entry in stored.items()}


def rewrap(stored: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The stored form with every sealed value moved to the current master key (its ciphertext
    untouched), and how many values moved."""
    ring = deployment.key_ring()
    moved = 0
    out: dict[str, Any] = {}
    for name, value in stored.items():
        if isinstance(value, dict) and SEALED in value:
            token = value[SEALED]
            if ring.key_id_of(token) != ring.current:
                token = ring.rewrap(token)
                moved += 1
            out[name] = {SEALED: token}
        else:
            out[name] = value
    return out, moved


# -- inside --------------------------------------------------------------------------------


def _known(schema: FormSchema, values: Mapping[str, Any]) -> dict[str, Any]:
    # A field the item no longer has has no label in force: it is not shown to anyone.
    names = {name for name, _ in schema.fields}
    return {k: v for k, v in values.items() if k in names}


def _aad(number: str, field: str) -> bytes:
    return f"application:{number}:{field}".encode()


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _decode(text: str) -> Any:
    return json.loads(text)


@lru_cache(maxsize=1024)
def _schema(fields: tuple[tuple[str, Label, str], ...]) -> FormSchema:
    floor = deployment.encrypt_from()
    return FormSchema(
        tuple((name, LabelledField(label, semantic)) for name, label, semantic in fields),
        frozenset(name for name, label, _ in fields if label.grade >= floor),
    )
