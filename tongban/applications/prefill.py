"""Once-only: fill in what the government already holds, and say where it came from.

A field whose catalog ``source`` names the signed-in person's verified identity or a department
system's lookup is filled when the application starts. The value is remembered with its source;
the field counts as verified only while the applicant leaves it unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.catalog.schemas import FieldSpec
from tongban.connectors import lookup
from tongban.exchange import service as exchange_service
from tongban.identity.models import Account

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
    remote: dict[str, Any] = dict(lookup.lookup_values(session, others, applicant.id_number or ""))
    shared = exchange_service.prefill_values(
        session,
        applicant,
        department_id=department_id,
        sources=[s for s in others if s not in remote],
        id_number=applicant.id_number or "",
    )
    remote.update(shared)
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
