"""The master data register as a data source for the exchange: a person's authoritative
values by resident ID number. Read-only; the exchange has checked the caller's grant."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.resources import repository
from tongban.resources.models import PersonScheme


def values_by_id_number(session: Session, id_number: str) -> dict[str, str | None] | None:
    """``{element: value}`` of the one person holding ``id_number``; None if nobody (or, while
    a steward has not yet resolved it, more than one person) holds it."""
    persons = repository.persons_with_identifier(session, PersonScheme.RESIDENT_ID, id_number)
    if len(persons) != 1:
        return None
    values = repository.element_values(session, persons[0].id)
    return {element: value.value for element, value in values.items()}
