"""One source, many checks (一数一源、多源校核、动态更新).

Each data element names its authoritative department. For a person, the value the authority's
record holds is the person's value; when it changes, the change is kept in the history and
published through the connectors outbox to the departments subscribed to the element, in the
same transaction. Every other department's value is compared with it (after the same folding the
matcher uses, so 張偉 and 张伟 agree); a disagreement is recorded as a conflict with both values
and both sources, routed to the authority's department, and closed once the values agree again
or when that department decides it (``service.conflicts``): a conflict it confirmed or dismissed
stays closed until one of the two values changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.connectors import outbox
from tongban.resources import disclosure, events, linkage, repository
from tongban.resources.models import (
    Conflict,
    ConflictResolution,
    ConflictStatus,
    DataElement,
    ElementValue,
    MasterPerson,
    SourceRecord,
    ValueChange,
)
from tongban.security.labels import Clearance
from tongban.security.principals import Internal


def _same(fold: Callable[[str], str | None]) -> Callable[[str | None, str | None], bool]:
    def compare(a: str | None, b: str | None) -> bool:
        return (fold(a) if a else None) == (fold(b) if b else None)

    return compare


def _fold_id(value: str) -> str | None:
    return linkage.canonical_id_number(value)


COMPARE: dict[str, Callable[[str | None, str | None], bool]] = {
    "name": _same(linkage.fold_name),
    "sex": _same(str.upper),
    "birth_date": _same(str.strip),
    "id_number": _same(_fold_id),
    "phone": _same(linkage.canonical_phone),
    "address": _same(linkage.fold_address),
}


@dataclass
class Outcome:
    changes: int = 0
    conflicts_opened: int = 0
    conflicts_closed: int = 0
    published: int = 0


def _value(record: SourceRecord, element: str) -> str | None:
    value: str | None = getattr(record, element)
    return value


def check_person(
    session: Session,
    person: MasterPerson,
    elements: Sequence[DataElement],
    *,
    now: datetime,
    outcome: Outcome,
) -> None:
    records = repository.records_of(session, person.id)
    current = repository.element_values(session, person.id)
    known = repository.conflicts_of(session, person.id)
    for element in elements:
        same = COMPARE[element.code]
        authoritative = [r for r in records if r.source == element.authority]
        stored = current.get(element.code)
        if authoritative:
            newest = max(authoritative, key=lambda r: (r.updated_at, r.id))
            value = _value(newest, element.code)
            if stored is None or stored.value != value:
                _change(session, person, element, stored, value, now=now, outcome=outcome)
        elif stored is None:
            continue
        truth = value if authoritative else (stored.value if stored else None)
        for record in records:
            if record.source == element.authority:
                continue
            other = _value(record, element.code)
            conflict = known.get((element.code, record.source))
            if other is None or same(truth, other):
                if conflict is not None and conflict.status is ConflictStatus.OPEN:
                    conflict.status, conflict.resolved_at = ConflictStatus.RESOLVED, now
                    conflict.resolution = ConflictResolution.AGREED
                    outcome.conflicts_closed += 1
                continue
            if conflict is not None and _decided(conflict, truth, other):
                continue
            if conflict is None:
                conflict = Conflict(
                    person_id=person.id,
                    element=element.code,
                    authority=element.authority,
                    other_source=record.source,
                    created_at=now,
                )
                session.add(conflict)
                known[(element.code, record.source)] = conflict
            if conflict.status is not ConflictStatus.OPEN or conflict.other_value != other:
                outcome.conflicts_opened += 1
            conflict.authority_value, conflict.other_value = truth, other
            conflict.status, conflict.resolved_at = ConflictStatus.OPEN, None
            conflict.resolution, conflict.note, conflict.closed_by_id = None, "", None


def _decided(conflict: Conflict, truth: str | None, other: str) -> bool:
    """The authority's department confirmed its value or dismissed the conflict over these
    very two values: it stays closed until one of them changes."""
    return (
        conflict.status is ConflictStatus.RESOLVED
        and conflict.resolution in (ConflictResolution.CONFIRMED, ConflictResolution.DISMISSED)
        and (conflict.authority_value, conflict.other_value) == (truth, other)
    )


def _change(
    session: Session,
    person: MasterPerson,
    element: DataElement,
    stored: ElementValue | None,
    value: str | None,
    *,
    now: datetime,
    outcome: Outcome,
) -> None:
    old = stored.value if stored is not None else None
    if stored is None:
        session.add(
            ElementValue(
                person_id=person.id,
                element=element.code,
                value=value,
                source=element.authority,
                updated_at=now,
            )
        )
    else:
        stored.value, stored.source, stored.updated_at = value, element.authority, now
    session.add(
        ValueChange(
            person_id=person.id,
            element=element.code,
            old_value=old,
            new_value=value,
            source=element.authority,
            at=now,
        )
    )
    outcome.changes += 1
    payload: events.ValueChanged = {
        "pid": person.pid,
        "element": element.code,
        "source": element.authority,
        "at": now.isoformat(),
    }
    labels = disclosure.element_labels(session)

    def values_for(clearance: Clearance) -> events.ValueChangedDisclosed:
        # A subscriber's system receives the values only as far as it is cleared for them.
        reading = disclosure.MasterReading(clearance, labels)
        values = reading.values(
            {"old_value": (element.code, old), "new_value": (element.code, value)}
        )
        return cast(events.ValueChangedDisclosed, values)

    for code in element.subscribers:
        department = catalog_service.get_department(
            session, Internal("name the department an authoritative value comes from"), code
        )
        outcome.published += len(
            outbox.publish(
                session,
                event_type=events.VALUE_CHANGED,
                department_id=department.id,
                aggregate_id=person.pid,
                payload=payload,
                disclose=values_for,
            )
        )
