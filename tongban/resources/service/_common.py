"""What several jobs of the resources service (and ``resources.life_events``) share: platform
ID codes, the look-ups that raise ``NotFound``, storing a person's identifiers (an identifier
given at the register, or those a department record carries), creating a person from records,
moving a record between persons as a link event that can be undone, and re-checking the
authoritative values of the persons a move touched. No policy is checked here; the public
function calling these has checked it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit import ids
from tongban.kit.clock import utcnow
from tongban.resources import authority, identifiers, repository
from tongban.resources.errors import CompanyNotFound, IdentifierInvalid, PersonNotFound
from tongban.resources.models import (
    LinkEvent,
    LinkReason,
    MasterCompany,
    MasterPerson,
    PersonIdentifier,
    PersonScheme,
    SourceRecord,
)


def new_code(prefix: str) -> str:
    body = f"{prefix}{secrets.randbelow(10**10):010d}"
    return body + ids.check_characters(body)


def load_person(session: Session, pid: str) -> MasterPerson:
    person = repository.person_by_pid(session, pid)
    if person is None:
        raise PersonNotFound("No person has the platform ID {pid}.", pid=pid)
    return person


def load_company(session: Session, cid: str) -> MasterCompany:
    company = repository.company_by_cid(session, cid)
    if company is None:
        raise CompanyNotFound("No company has the platform ID {cid}.", cid=cid)
    return company


def add_identifiers(
    session: Session,
    person: MasterPerson,
    scheme: PersonScheme,
    value: str,
    *,
    issuer: str,
    record_id: int | None,
) -> list[PersonIdentifier]:
    if not identifiers.clean(value):
        raise IdentifierInvalid("The identifier is empty.", field="value")
    rows = [
        PersonIdentifier(
            person_id=person.id,
            scheme=found_scheme,
            value=found_value,
            issuer=issuer,
            problem=problem,
            record_id=record_id,
        )
        for found_scheme, found_value, problem in identifiers.person_identifiers(scheme, value)
    ]
    session.add_all(rows)
    return rows


def replace_record_identifiers(
    session: Session, record: SourceRecord, person: MasterPerson
) -> None:
    for old in repository.identifiers_of_record(session, record.id):
        session.delete(old)
    add_identifiers(
        session,
        person,
        PersonScheme.DEPARTMENT_LOCAL,
        record.local_id,
        issuer=record.source,
        record_id=record.id,
    )
    if record.id_number:
        add_identifiers(
            session,
            person,
            PersonScheme.RESIDENT_ID,
            record.id_number,
            issuer="",
            record_id=record.id,
        )


def update_record(
    session: Session, record: SourceRecord, values: dict[str, Any], *, problem: str, now: datetime
) -> bool:
    """Give ``record`` these values (``problem``: what is wrong with its ID number); a linked
    record whose ID number changed has its identifiers replaced on its person at once. False if
    nothing changed."""
    changed = {k: v for k, v in values.items() if getattr(record, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(record, key, value)
    record.id_problem, record.updated_at = problem, now
    if record.person_id is not None and "id_number" in changed:
        person = session.get(MasterPerson, record.person_id)
        assert person is not None
        replace_record_identifiers(session, record, person)
    return True


def person_from(session: Session, records: Sequence[SourceRecord]) -> MasterPerson:
    first = records[0]
    person = MasterPerson(
        pid=new_code("P"), name=first.name, sex=first.sex, birth_date=first.birth_date
    )
    session.add(person)
    session.flush()
    return person


def move(
    session: Session,
    record: SourceRecord,
    person: MasterPerson | None,
    reason: LinkReason,
    *,
    actor: Principal,
    probability: float | None,
) -> LinkEvent:
    """Put ``record`` under ``person`` (None: unlinked), with its identifiers, and remember
    where it was so the move can be undone."""
    previous = record.person_id
    record.person_id = person.id if person is not None else None
    if person is not None:
        person.active = True
        replace_record_identifiers(session, record, person)
    else:
        for old in repository.identifiers_of_record(session, record.id):
            session.delete(old)
    event = LinkEvent(
        record_id=record.id,
        from_person_id=previous,
        to_person_id=record.person_id,
        reason=reason,
        match_probability=probability,
        actor_id=actor.id if isinstance(actor, Account) else None,
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    if previous is not None and repository.record_count(session, previous) == 0:
        emptied = session.get(MasterPerson, previous)
        assert emptied is not None
        emptied.active = False
    return event


def check_authority(
    session: Session, person_ids: set[int | None], *, now: datetime
) -> authority.Outcome:
    outcome = authority.Outcome()
    elements = repository.elements(session)
    if not elements:
        return outcome
    persons = repository.persons_by_ids(session, {p for p in person_ids if p is not None})
    for person in persons.values():
        authority.check_person(session, person, elements, now=now, outcome=outcome)
    session.flush()
    return outcome
