"""The person and company registers: registering a person or a company under a new platform ID
(``P…`` or ``C…`` with check characters), linking further identifiers to a person, finding
persons and companies by an identifier (an old 15-digit ID number also finds the 18-digit one it
became; a USCC also the organisation code inside it), and showing a person as the reader may see
them, with their records and link history. Searches by an identifier the reader may not read are
refused before anything is looked up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.identity.principals import Principal
from tongban.resources import disclosure, identifiers, policy, repository
from tongban.resources.errors import PersonNotFound
from tongban.resources.models import (
    CompanyIdentifier,
    CompanyScheme,
    LinkEvent,
    MasterCompany,
    MasterPerson,
    PersonIdentifier,
    PersonScheme,
)
from tongban.resources.service._common import add_identifiers, load_company, load_person, new_code


def register_person(
    session: Session,
    subject: Principal,
    *,
    name: str,
    sex: str | None = None,
    birth_date: str | None = None,
    identifiers_given: Sequence[tuple[PersonScheme, str, str]] = (),
) -> MasterPerson:
    """A new person with a platform ID; ``identifiers_given`` are (scheme, value, issuer)."""
    policy.require_manage_master_data(subject)
    person = MasterPerson(pid=new_code("P"), name=name, sex=sex, birth_date=birth_date)
    session.add(person)
    session.flush()
    for scheme, value, issuer in identifiers_given:
        add_identifiers(session, person, scheme, value, issuer=issuer, record_id=None)
    audit.record(
        session,
        actor=subject,
        action="resources.person_registered",
        target_type="master_person",
        target_id=person.pid,
        details={"identifiers": [s.value for s, _, _ in identifiers_given]},
    )
    return person


def add_person_identifier(
    session: Session,
    subject: Principal,
    pid: str,
    *,
    scheme: PersonScheme,
    value: str,
    issuer: str = "",
) -> list[PersonIdentifier]:
    """Link an identifier (and, for an old 15-digit ID number, the 18-digit one it became)."""
    policy.require_manage_master_data(subject)
    person = load_person(session, pid)
    added = add_identifiers(session, person, scheme, value, issuer=issuer, record_id=None)
    audit.record(
        session,
        actor=subject,
        action="resources.identifier_linked",
        target_type="master_person",
        target_id=person.pid,
        details={"scheme": scheme.value, "flagged": any(i.problem for i in added)},
    )
    return added


def find_persons(
    session: Session, subject: Principal, *, scheme: PersonScheme, value: str
) -> list[MasterPerson]:
    """Persons holding the identifier; an old 15-digit ID number also finds the 18-digit one."""
    policy.require_read_master_data(subject)
    disclosure.reading(session, subject).require_searchable(
        scheme.value, disclosure.IDENTIFIER_ELEMENT
    )
    found: dict[int, MasterPerson] = {}
    for s, v, _problem in identifiers.person_identifiers(scheme, value):
        for person in repository.persons_with_identifier(session, s, v):
            found[person.id] = person
    return list(found.values())


@dataclass
class PersonView:
    """A person as the reader may see them: values masked by their elements' labels."""

    person: dict[str, Any]
    identifiers: list[dict[str, Any]]
    records: list[dict[str, Any]]
    history: list[LinkEvent]
    pids: dict[int, str]
    # For each record, the link that put it in this person (how, and how sure): a wrong
    # automatic link is undone from here.
    links: dict[int, LinkEvent]


def get_person(session: Session, subject: Principal, pid: str) -> PersonView:
    policy.require_read_master_data(subject)
    person = load_person(session, pid)
    history = repository.link_events_of(session, person.id)
    involved = {e.from_person_id for e in history} | {e.to_person_id for e in history}
    persons = repository.persons_by_ids(session, {i for i in involved if i is not None})
    reading = disclosure.reading(session, subject)
    links: dict[int, LinkEvent] = {}
    for event in history:  # newest first
        if event.to_person_id == person.id and event.undone_at is None:
            links.setdefault(event.record_id, event)
    return PersonView(
        person=reading.person(person),
        identifiers=reading.identifiers(repository.identifiers_of(session, person.id)),
        records=reading.records(repository.records_of(session, person.id)),
        history=history,
        pids={i: p.pid for i, p in persons.items()} | {person.id: person.pid},
        links=links,
    )


def pid_of(session: Session, subject: Principal, person_id: int) -> str:
    policy.require_read_master_data(subject)
    person = session.get(MasterPerson, person_id)
    if person is None:
        raise PersonNotFound("No person has the platform ID {pid}.", pid=str(person_id))
    return person.pid


def register_company(
    session: Session,
    subject: Principal,
    *,
    name: str,
    identifiers_given: Sequence[tuple[CompanyScheme, str]] = (),
) -> MasterCompany:
    """A company with a platform ID; a USCC also links the organisation code inside it."""
    policy.require_manage_master_data(subject)
    company = MasterCompany(cid=new_code("C"), name=name)
    session.add(company)
    session.flush()
    seen: set[tuple[CompanyScheme, str]] = set()
    for scheme, value in identifiers_given:
        for found_scheme, found_value, problem in identifiers.company_identifiers(scheme, value):
            if (found_scheme, found_value) in seen:
                continue
            seen.add((found_scheme, found_value))
            session.add(
                CompanyIdentifier(
                    company_id=company.id, scheme=found_scheme, value=found_value, problem=problem
                )
            )
    audit.record(
        session,
        actor=subject,
        action="resources.company_registered",
        target_type="master_company",
        target_id=company.cid,
        details={"identifiers": sorted(s.value for s, _ in seen)},
    )
    return company


def find_companies(
    session: Session, subject: Principal, *, scheme: CompanyScheme, value: str
) -> list[MasterCompany]:
    policy.require_read_master_data(subject)
    found: dict[int, MasterCompany] = {}
    for s, v, _problem in identifiers.company_identifiers(scheme, value):
        for company in repository.companies_with_identifier(session, s, v):
            found[company.id] = company
    return list(found.values())


def get_company(
    session: Session, subject: Principal, cid: str
) -> tuple[MasterCompany, list[CompanyIdentifier]]:
    policy.require_read_master_data(subject)
    company = load_company(session, cid)
    return company, repository.company_identifiers_of(session, company.id)
