"""Legal persons and the people authorised for them.

An administrator (or the operator) registers a legal person, identified by its unified social
credit code, with its legal representative, until master data brings them; the legal
representative authorises and revokes agents, each possibly until a date. A person authorised for
a legal person switches explicitly to acting for it; the switch is recorded on their sign-in
session, audited, and dropped by itself once the authorisation ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.errors import Conflict, InvalidInput
from tongban.identity import policy, repository
from tongban.identity.errors import AccountNotFound, LegalPersonNotFound, NotAuthorisedFor
from tongban.identity.models import (
    Account,
    AccountKind,
    AgentRole,
    LegalPerson,
    LegalPersonAgent,
    WebSession,
)
from tongban.identity.numbers import uscc_problem
from tongban.identity.principals import Principal, account_id
from tongban.kit import clock

MAX_NAME = 200


@dataclass(frozen=True)
class Authorisation:
    """A person's standing authorisation for a legal person."""

    legal_person: LegalPerson
    role: AgentRole
    expires_at: datetime | None


@dataclass(frozen=True)
class Agent:
    """Someone authorised (now or before) for a legal person, as its representative sees them."""

    username: str
    display_name: str
    role: AgentRole
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    live: bool


def _audit(
    session: Session,
    actor: Principal,
    action: str,
    legal_person: LegalPerson,
    **details: object,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"identity.{action}",
        target_type="legal_person",
        target_id=legal_person.uscc,
        details=details or None,
    )


def _clean_uscc(uscc: str) -> str:
    code = uscc.strip().upper()
    problem = uscc_problem(code)
    if problem:
        raise InvalidInput(problem, field="uscc")
    return code


def _legal_person(session: Session, uscc: str) -> LegalPerson:
    legal_person = repository.legal_person_by_uscc(session, uscc.strip().upper())
    if legal_person is None:
        raise LegalPersonNotFound(
            "No legal person with the unified social credit code {uscc} is registered.",
            field="uscc",
            uscc=uscc,
        )
    return legal_person


def _natural_person(session: Session, username: str, field: str) -> Account:
    account = repository.account_by_username(session, username.strip())
    if account is None:
        raise AccountNotFound("There is no account {username}.", field=field, username=username)
    if account.kind is not AccountKind.APPLICANT or not account.active:
        raise InvalidInput(
            "Only a citizen's account can act for a legal person; {username} is not one.",
            field=field,
            username=username,
        )
    return account


def register_legal_person(
    session: Session,
    subject: Principal,
    *,
    uscc: str,
    name: str,
    representative: str,
) -> LegalPerson:
    """Register a legal person with its legal representative (a citizen's username)."""
    policy.require_register_legal_person(subject)
    code = _clean_uscc(uscc)
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(
            "Please give the legal person's name (at most {n} characters).",
            field="name",
            n=MAX_NAME,
        )
    if repository.legal_person_by_uscc(session, code) is not None:
        raise Conflict(
            "A legal person with the unified social credit code {uscc} is registered already.",
            field="uscc",
            uscc=code,
        )
    person = _natural_person(session, representative, "representative")
    legal_person = LegalPerson(uscc=code, name=name)
    session.add(legal_person)
    session.flush()
    session.add(
        LegalPersonAgent(
            legal_person_id=legal_person.id,
            account_id=person.id,
            role=AgentRole.LEGAL_REPRESENTATIVE,
            granted_at=clock.utcnow(),
            granted_by_id=account_id(subject),
        )
    )
    session.flush()
    _audit(
        session,
        subject,
        "legal_person_registered",
        legal_person,
        name=name,
        representative=person.username,
    )
    return legal_person


def _end_of_day(day: date) -> datetime:
    """The end of ``day`` in the deployment's time zone: an authorisation "until 30 June" holds
    all of 30 June."""
    return datetime.combine(day, time.max, tzinfo=clock.local_zone())


def grant_agent(
    session: Session,
    subject: Principal,
    *,
    uscc: str,
    username: str,
    until: date | None = None,
) -> Agent:
    """The legal representative authorises a person to act for the legal person, until the end
    of ``until`` or until revoked. Granting again renews (and un-revokes) the authorisation."""
    legal_person = _legal_person(session, uscc)
    now = clock.utcnow()
    representative = repository.representative_of(session, legal_person.id)
    grantor = policy.require_manage_agents(subject, legal_person, representative, now)
    person = _natural_person(session, username, "username")
    expires_at = _end_of_day(until) if until else None
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("The authorisation must end in the future.", field="until")
    existing = repository.authorisation(session, legal_person.id, person.id)
    if existing is not None and existing.role is AgentRole.LEGAL_REPRESENTATIVE:
        raise Conflict(
            "{username} is the legal representative already.", field="username", username=username
        )
    if existing is None:
        existing = LegalPersonAgent(
            legal_person_id=legal_person.id, account_id=person.id, role=AgentRole.AGENT
        )
        session.add(existing)
    existing.granted_at = now
    existing.granted_by_id = grantor.id if grantor else None
    existing.expires_at = expires_at
    existing.revoked_at = None
    session.flush()
    _audit(
        session,
        subject,
        "agent_granted",
        legal_person,
        agent=person.username,
        until=until.isoformat() if until else None,
    )
    return _agent(existing, person, now)


def revoke_agent(session: Session, subject: Principal, *, uscc: str, username: str) -> None:
    """The legal representative ends an agent's authorisation, at once: sessions acting for the
    legal person under it stop doing so."""
    legal_person = _legal_person(session, uscc)
    now = clock.utcnow()
    representative = repository.representative_of(session, legal_person.id)
    policy.require_manage_agents(subject, legal_person, representative, now)
    person = repository.account_by_username(session, username.strip())
    existing = repository.authorisation(session, legal_person.id, person.id) if person else None
    if person is None or existing is None or existing.role is not AgentRole.AGENT:
        raise AccountNotFound(
            "{username} is not an agent of {name}.",
            field="username",
            username=username,
            name=legal_person.name,
        )
    if existing.revoked_at is None:
        existing.revoked_at = now
    repository.stop_acting_for(session, person.id, legal_person.id)
    _audit(session, subject, "agent_revoked", legal_person, agent=person.username)


def _agent(row: LegalPersonAgent, account: Account, now: datetime) -> Agent:
    return Agent(
        username=account.username,
        display_name=account.display_name,
        role=row.role,
        granted_at=row.granted_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        live=policy.is_live(row, now),
    )


def agents(session: Session, subject: Principal, *, uscc: str) -> list[Agent]:
    """Everyone authorised for the legal person, now or before: for its legal representative and
    administrators."""
    legal_person = _legal_person(session, uscc)
    now = clock.utcnow()
    representative = repository.representative_of(session, legal_person.id)
    policy.require_view_agents(subject, legal_person, representative, now)
    return [
        _agent(row, account, now) for row, account in repository.agents_of(session, legal_person.id)
    ]


def my_authorisations(session: Session, subject: Principal) -> list[Authorisation]:
    """The legal persons the subject may act for now."""
    person = policy.require_view_own_authorisations(subject)
    return [
        Authorisation(legal_person, row.role, row.expires_at)
        for row, legal_person in repository.live_authorisations_of(
            session, person.id, clock.utcnow()
        )
    ]


def switch_acting_for(
    session: Session,
    subject: Principal,
    *,
    web_session: WebSession,
    uscc: str | None,
) -> LegalPerson | None:
    """Act for a legal person from now on in this sign-in session (``uscc``), or again only for
    oneself (None). Only for a legal person the subject is authorised for now."""
    person = policy.require_view_own_authorisations(subject)
    if web_session.account_id != person.id:
        raise NotAuthorisedFor("This is not your session.")
    previous = web_session.acting_for_id
    target: LegalPerson | None = None
    if uscc is not None and uscc.strip():
        target = _legal_person(session, uscc)
        authorisation = repository.authorisation(session, target.id, person.id)
        policy.require_act_for(person, target, authorisation, clock.utcnow())
    web_session.acting_for_id = target.id if target else None
    if previous != web_session.acting_for_id:
        before = session.get(LegalPerson, previous) if previous is not None else None
        audit.record(
            session,
            actor=person,
            action="identity.acting_for_switched",
            target_type="account",
            target_id=str(web_session.account_id),
            details={
                "session_id": web_session.id,
                "from": before.uscc if before else None,
                "to": target.uscc if target else None,
            },
        )
    return target


def acting_for(
    session: Session, subject: Principal, *, web_session: WebSession
) -> LegalPerson | None:
    """The legal person the subject acts for in this session, if any."""
    person = policy.require_view_own_authorisations(subject)
    if web_session.account_id != person.id or web_session.acting_for_id is None:
        return None
    return session.get(LegalPerson, web_session.acting_for_id)
