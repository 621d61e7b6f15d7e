"""Once-only: fill in what the government already holds, and say where it came from.

A field whose catalog ``source`` names the signed-in person's verified identity or a department
system's lookup is filled when the application starts, and when it comes to cover more items (a
bundle's department application: the fields those add). The value is remembered with its
source; the field counts as verified only while the applicant leaves it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tongban.catalog.schemas import FieldSpec
from tongban.connectors import lookup
from tongban.exchange import repository as exchange_repository
from tongban.exchange import service as exchange_service
from tongban.identity.models import Account
from tongban.resources import disclosure as master_data
from tongban.security import deployment, writes
from tongban.security.errors import WriteDownRefused
from tongban.security.labels import Label

IDENTITY = "applicant"


def gather(
    session: Session, fields: list[FieldSpec], applicant: Account, *, department_id: int
) -> dict[str, Any]:
    """``{field: {"source", "origin", "value"}}`` for every field a source could fill: the
    person's verified identity, a department system's lookup, or a resource of the exchange that
    the handling department (``department_id``) holds a grant for."""
    identity = {
        "applicant.name": applicant.display_name,
        "applicant.id_number": applicant.id_number,
        "applicant.phone": applicant.phone,
    }
    others = [f.source for f in fields if f.source and not f.source.startswith(f"{IDENTITY}.")]
    remote = remote_values(session, others, applicant, department_id=department_id)
    found: dict[str, Any] = {}
    for field in fields:
        if not field.source:
            continue
        if field.source.startswith(f"{IDENTITY}."):
            value, origin = identity.get(field.source), None
        elif field.source in remote:
            value, origin = remote[field.source].value, remote[field.source].origin
        else:
            continue
        if value not in (None, ""):
            # ``origin`` None: the person's own verified identity.
            found[field.name] = {"source": field.source, "origin": origin, "value": value}
    return found


# On ``session.info``: what department systems and shared resources answered in this request,
# by (applicant, handling department, source); None where they hold nothing.
_ASKED = "tongban.prefill.asked"


def remote_values(
    session: Session, sources: list[str], applicant: Account, *, department_id: int
) -> dict[str, Any]:
    """What department systems (lookups) and shared resources (the exchange) hold for
    ``sources``, each asked once per request: a use case that changes things before it opens
    a draft asks first (``ask_first``), since a call ends the transaction it finds open
    (``db.session.release``)."""
    asked: dict[tuple[int, int, str], Any] = session.info.setdefault(_ASKED, {})
    new = [s for s in dict.fromkeys(sources) if (applicant.id, department_id, s) not in asked]
    if new:
        id_number = applicant.id_number or ""
        found: dict[str, Any] = dict(lookup.lookup_values(session, new, id_number))
        found |= exchange_service.prefill_values(
            session,
            applicant,
            department_id=department_id,
            sources=[s for s in new if s not in found],
            id_number=id_number,
        )
        for source in new:
            asked[(applicant.id, department_id, source)] = found.get(source)
    keys = ((s, (applicant.id, department_id, s)) for s in sources)
    return {s: asked[key] for s, key in keys if asked[key] is not None}


def ask_first(
    session: Session, applicant: Account, fields: list[FieldSpec], *, department_id: int
) -> None:
    """Ask now, before the use case changes anything, what ``fields``' sources hold; the
    drafts it then opens take the answers without asking again."""
    sources = [f.source for f in fields if f.source and not f.source.startswith(f"{IDENTITY}.")]
    remote_values(session, sources, applicant, department_id=department_id)


def keep_labelled(
    session: Session,
    actor: Account,
    item_codes: Mapping[str, str],
    found: dict[str, Any],
    field_labels: dict[str, Label],
) -> dict[str, Any]:
    """``found`` less the values whose source is labelled above the field they would fill (no
    write down): each refusal is audited (the field named with its item, ``item_codes``), and
    the applicant fills that field in themselves."""
    elements = master_data.element_labels(session)
    kept: dict[str, Any] = {}
    for name, entry in found.items():
        label = source_label(session, entry["source"], elements)
        sources = {entry["source"]: label} if label is not None else {}
        try:
            writes.check(
                session,
                actor,
                sources=sources,
                target=field_labels[name],
                place=f"form field {item_codes[name]}.{name}",
            )
        except WriteDownRefused:
            continue
        kept[name] = entry
    return kept


def source_label(session: Session, source: str, elements: dict[str, Label]) -> Label | None:
    """The label of a prefill source: the person's identity and a department system's lookup
    carry their master-data element's label, a shared resource's item its own. A lookup of
    something that is no master-data element has no label of its own: None."""
    code, _, name = source.partition(".")
    if code == IDENTITY or name in elements:
        return elements.get(name)
    resource = exchange_repository.resource_by_code(session, code)
    if resource is None:
        return None
    for item in resource.items:
        if item.code == name:
            return deployment.scheme().parse_label(item.security_label)
    return None
