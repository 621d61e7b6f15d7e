"""Conflicts between sources (多源校核): where another department's value disagrees with the
authority's. A conflict is routed to the authority's department: a steward sees every conflict,
an official only their own department's, both values masked by the element's label. An approver
of that department closes it in one of three ways, each audited and sent to both departments'
systems (``resources.conflict_closed``):

- **confirm**: the authority's value stands; the other source is to correct its record;
- **correct**: the authority's own record was wrong: it takes the value given (checked as a
  department record is), the authoritative value changes and is published to the subscribers,
  and the conflict closes when the values agree (if the other source still differs, it stays
  open over the new value);
- **dismiss**: there is nothing to correct, for the reason given.

A confirmed or dismissed conflict stays closed until one of its two values changes
(``authority``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors import outbox
from tongban.errors import Forbidden, InvalidInput
from tongban.identity.models import Account, OfficialRole
from tongban.identity.principals import Principal, account_id
from tongban.kit.clock import utcnow
from tongban.resources import authority, disclosure, events, identifiers, policy, repository
from tongban.resources.errors import AlreadyDecided, ConflictNotFound
from tongban.resources.models import (
    Conflict,
    ConflictResolution,
    ConflictStatus,
    SourceRecord,
)
from tongban.resources.schemas import RecordIn
from tongban.resources.service._common import check_authority, update_record
from tongban.security.labels import Clearance
from tongban.security.principals import Internal

MAX_NOTE = 2000


@dataclass(frozen=True)
class ConflictView:
    """A conflict as the reader may see it: both values masked by the element's label."""

    id: int
    pid: str
    element: str
    authority: str
    authority_value: str | None
    other_source: str
    other_value: str | None
    status: ConflictStatus
    created_at: datetime
    resolution: ConflictResolution | None
    resolved_at: datetime | None
    note: str
    closed_by: str | None  # username


def list_conflicts(
    session: Session,
    subject: Principal,
    *,
    department: str | None = None,
    status: ConflictStatus | None = ConflictStatus.OPEN,
    limit: int = 200,
) -> list[ConflictView]:
    """Conflicts routed to ``department`` (an official's own by default)."""
    if department is None and isinstance(subject, Account) and not policy.is_steward(subject):
        department_id = subject.department_id
    else:
        department_id = (
            catalog_service.get_department(session, subject, department).id
            if department is not None
            else None
        )
    policy.require_read_conflicts(subject, department_id)
    code = None
    if department_id is not None:
        code = catalog_service.get_department_by_id(session, subject, department_id).code
    reading = disclosure.reading(session, subject)
    return [
        _view(reading, *row)
        for row in repository.conflicts(session, authority=code, status=status, limit=limit)
    ]


def may_see_conflicts(subject: Principal) -> bool:
    """Whether ``list_conflicts`` has anything to show this subject (stewards, officials)."""
    return policy.is_steward(subject) or (
        isinstance(subject, Account) and subject.department_id is not None
    )


def may_close_conflicts(subject: Principal) -> bool:
    """Whether the subject may close conflicts routed to their department (the page offers
    the ways to close one only then)."""
    return policy.is_steward(subject) or (
        isinstance(subject, Account)
        and subject.department_id is not None
        and OfficialRole.APPROVER.value in subject.roles
    )


def confirm_conflict(
    session: Session, subject: Principal, conflict_id: int, *, note: str = ""
) -> ConflictView:
    """The authority's value stands: the other source is told to correct its record."""
    conflict, pid, department_id = _to_close(session, conflict_id)
    policy.require_close_conflict(subject, department_id)
    _require_open(conflict)
    note = _text(note, "note", required=False)
    _close(session, subject, conflict, pid, ConflictResolution.CONFIRMED, note)
    return _read(session, subject, conflict_id)


def correct_conflict(
    session: Session, subject: Principal, conflict_id: int, *, value: str, note: str = ""
) -> ConflictView:
    """The authority's own record was wrong: it takes ``value``, and the authoritative value
    changes (published to the subscribers) and is checked against every source again."""
    conflict, pid, department_id = _to_close(session, conflict_id)
    policy.require_close_conflict(subject, department_id)
    _require_open(conflict)
    if not disclosure.reading(session, subject).reads(conflict.element):
        raise Forbidden("Your clearance does not cover this data element: you cannot correct it.")
    note = _text(note, "note", required=False)
    record = _authority_record(session, conflict)
    row = _corrected_row(record, conflict.element, value)
    if authority.COMPARE[conflict.element](conflict.authority_value, row[conflict.element]):
        raise InvalidInput(
            "The authoritative record already holds this value: confirm it instead.",
            field="value",
        )
    now = utcnow()
    number = row["id_number"]
    problem = "" if number is None else identifiers.resident_id_problem(identifiers.clean(number))
    update_record(session, record, row, problem=problem, now=now)
    record.checked_at = now
    check_authority(session, {conflict.person_id}, now=now)
    if conflict.status is ConflictStatus.RESOLVED:
        # The values agree now: closed by this correction.
        _close(session, subject, conflict, pid, ConflictResolution.CORRECTED, note)
    else:
        # The other source differs from the corrected value too: still open, over it.
        _audit(session, subject, conflict, pid, "corrected", note=note, closed=False)
    return _read(session, subject, conflict_id)


def dismiss_conflict(
    session: Session, subject: Principal, conflict_id: int, *, reason: str
) -> ConflictView:
    """Nothing to correct, for ``reason`` (both departments see it)."""
    conflict, pid, department_id = _to_close(session, conflict_id)
    policy.require_close_conflict(subject, department_id)
    _require_open(conflict)
    reason = _text(reason, "reason", required=True)
    _close(session, subject, conflict, pid, ConflictResolution.DISMISSED, reason)
    return _read(session, subject, conflict_id)


def _load(session: Session, conflict_id: int) -> tuple[Conflict, str, str | None]:
    found = repository.conflict_by_id(session, conflict_id)
    if found is None:
        raise ConflictNotFound("There is no conflict {id}.", id=conflict_id)
    return found


def _to_close(session: Session, conflict_id: int) -> tuple[Conflict, str, int]:
    """The conflict, its person's pid and the id of the department it is routed to."""
    conflict, pid, _ = _load(session, conflict_id)
    department = catalog_service.get_department(
        session, Internal("name the department of a conflicting value"), conflict.authority
    )
    return conflict, pid, department.id


def _require_open(conflict: Conflict) -> None:
    if conflict.status is not ConflictStatus.OPEN:
        raise AlreadyDecided("This conflict is already closed.")


def _read(session: Session, subject: Principal, conflict_id: int) -> ConflictView:
    session.flush()
    return _view(disclosure.reading(session, subject), *_load(session, conflict_id))


def _view(
    reading: disclosure.MasterReading, c: Conflict, pid: str, closed_by: str | None
) -> ConflictView:
    authority_value, other_value = reading.conflict(c)
    return ConflictView(
        c.id,
        pid,
        c.element,
        c.authority,
        authority_value,
        c.other_source,
        other_value,
        c.status,
        c.created_at,
        c.resolution,
        c.resolved_at,
        c.note,
        closed_by,
    )


def _text(value: str, field: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput("Please give a reason: both departments will see it.", field=field)
    if len(value) > MAX_NOTE:
        raise InvalidInput("At most {n} characters, please.", field=field, n=MAX_NOTE)
    return value


def _authority_record(session: Session, conflict: Conflict) -> SourceRecord:
    """The authority's newest record of the person: the one its value comes from."""
    records = [
        r
        for r in repository.records_of(session, conflict.person_id)
        if r.source == conflict.authority
    ]
    if not records:
        raise InvalidInput(
            "The authoritative department holds no record of this person to correct.",
            field="value",
        )
    return max(records, key=lambda r: (r.updated_at, r.id))


def _corrected_row(record: SourceRecord, element: str, value: str) -> dict[str, Any]:
    """The record's values with ``element`` corrected, checked as an imported record is."""
    fields = ("local_id", "name", "sex", "birth_date", "id_number", "phone", "address")
    try:
        row = RecordIn.model_validate(
            {**{f: getattr(record, f) for f in fields}, element: value.strip() or None}
        )
    except ValidationError as exc:
        raise InvalidInput(
            "This is not a valid value: {problem}",
            field="value",
            problem=exc.errors()[0]["msg"],
        ) from exc
    return row.model_dump(exclude={"local_id"})


def _close(
    session: Session,
    subject: Principal,
    conflict: Conflict,
    pid: str,
    resolution: ConflictResolution,
    note: str,
) -> None:
    now = utcnow()
    conflict.status, conflict.resolved_at = ConflictStatus.RESOLVED, now
    conflict.resolution, conflict.note = resolution, note
    conflict.closed_by_id = account_id(subject)
    _audit(session, subject, conflict, pid, resolution.value, note=note, closed=True)
    _publish(session, conflict, pid, now)


def _audit(
    session: Session,
    subject: Principal,
    conflict: Conflict,
    pid: str,
    what: str,
    **details: Any,
) -> None:
    # The values are labelled master data: the audit names the conflict, not them.
    audit.record(
        session,
        actor=subject,
        action=f"resources.conflict_{what}",
        target_type="conflict",
        target_id=str(conflict.id),
        details={
            "pid": pid,
            "element": conflict.element,
            "authority": conflict.authority,
            "other_source": conflict.other_source,
            **details,
        },
    )


def _publish(session: Session, conflict: Conflict, pid: str, now: datetime) -> None:
    """Both departments' systems are told: the other source to correct its record (confirmed),
    the authority's to apply the correction made here (corrected)."""
    assert conflict.resolution is not None
    payload: events.ConflictClosed = {
        "pid": pid,
        "element": conflict.element,
        "resolution": conflict.resolution.value,
        "authority": conflict.authority,
        "other_source": conflict.other_source,
        "note": conflict.note,
        "at": now.isoformat(),
    }
    labels = disclosure.element_labels(session)

    def values_for(clearance: Clearance) -> events.ConflictClosedDisclosed:
        # Each system receives the values only as far as it is cleared for them.
        reading = disclosure.MasterReading(clearance, labels)
        values = reading.values(
            {
                "authority_value": (conflict.element, conflict.authority_value),
                "other_value": (conflict.element, conflict.other_value),
            }
        )
        return cast(events.ConflictClosedDisclosed, values)

    for code in dict.fromkeys((conflict.authority, conflict.other_source)):
        department = catalog_service.get_department(
            session, Internal("name the department of a conflicting value"), code
        )
        outbox.publish(
            session,
            event_type=events.CONFLICT_CLOSED,
            department_id=department.id,
            aggregate_id=pid,
            payload=payload,
            disclose=values_for,
        )
