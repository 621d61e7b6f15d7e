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
from tongban.identity.models import Account

IDENTITY = "applicant"


def gather(session: Session, fields: list[FieldSpec], applicant: Account) -> dict[str, Any]:
    """``{field: {"source", "origin", "value"}}`` for every field a source could fill."""
    identity = {
        "applicant.name": applicant.display_name,
        "applicant.id_number": applicant.id_number,
        "applicant.phone": applicant.phone,
    }
    remote = lookup.lookup_values(
        session,
        [f.source for f in fields if f.source and not f.source.startswith(f"{IDENTITY}.")],
        applicant.id_number or "",
    )
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
