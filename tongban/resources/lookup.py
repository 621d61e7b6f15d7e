"""The master data register as a data source for the exchange: persons' authoritative values
by resident ID number. Read-only; the exchange has checked the caller's grant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.resources import repository


def values_by_id_numbers(
    session: Session, id_numbers: Sequence[str]
) -> dict[str, dict[str, str | None]]:
    """``{id_number: {element: value}}`` for the keys one person holds, in one query. A key
    nobody holds is absent; so is one that (until a steward resolves it) several persons hold."""
    found: dict[str, dict[str, str | None]] = {}
    owners: dict[str, set[int]] = {}
    for id_number, person_id, element, value in repository.values_by_resident_ids(
        session, id_numbers
    ):
        owners.setdefault(id_number, set()).add(person_id)
        found.setdefault(id_number, {})[element] = value
    return {key: values for key, values in found.items() if len(owners[key]) == 1}
