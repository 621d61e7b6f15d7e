"""One SQL statement per rule over the whole population: who is to be offered what, and on
which occasion. Every statement yields the same columns (``subject_ref``, ``occasion``,
``recipient_id``, ``legal_person_id``) and leaves out what was already offered, so counting it,
and inserting it into the offers, are each one set-wise statement, on SQLite and PostgreSQL.

A person is reached through the account holding their resident ID number; a company through
its legal representatives (identity's agents of the legal person with its USCC). Someone with
no account gets no offer: there is nobody to tell online."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)

from tongban.identity.models import Account, AccountKind, AgentRole, LegalPerson, LegalPersonAgent
from tongban.proactive.models import Offer
from tongban.proactive.schemas import (
    AgeReached,
    BirthRegistered,
    CountReached,
    DateWithin,
    RuleSpec,
)
from tongban.resources.models import (
    CompanyIdentifier,
    CompanyScheme,
    CompanyValue,
    CompanyValueChange,
    MasterCompany,
    MasterPerson,
    PersonIdentifier,
    PersonRelation,
    PersonScheme,
)


def years_before(day: date, years: int) -> date:
    """``day`` ``years`` years earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _birth(trigger: BirthRegistered, now: datetime) -> Select[Any, Any, Any, Any]:
    child = MasterPerson
    return (
        select(
            child.pid.label("subject_ref"),
            literal("birth").label("occasion"),
            Account.id.label("recipient_id"),
            literal(None, Integer).label("legal_person_id"),
        )
        .select_from(child)
        .join(PersonRelation, PersonRelation.person_id == child.id)
        .join(PersonIdentifier, PersonIdentifier.person_id == PersonRelation.relative_id)
        .join(Account, Account.id_number == PersonIdentifier.value)
        .where(
            child.active.is_(True),
            PersonRelation.relation.in_(trigger.to),
            PersonRelation.registered_at >= now - timedelta(days=trigger.within_days),
            PersonIdentifier.scheme == PersonScheme.RESIDENT_ID,
            PersonIdentifier.problem == "",
            Account.kind == AccountKind.APPLICANT,
            Account.active.is_(True),
        )
    )


def _age(trigger: AgeReached, today: date) -> Select[Any, Any, Any, Any]:
    # Turned N on a day in (today - within_days, today]: born in that window N years earlier.
    # ISO dates compare as strings, so this is a range scan of the birth_date index.
    newest = years_before(today, trigger.years).isoformat()
    oldest = years_before(today - timedelta(days=trigger.within_days - 1), trigger.years)
    return (
        select(
            MasterPerson.pid.label("subject_ref"),
            literal(f"age-{trigger.years}").label("occasion"),
            Account.id.label("recipient_id"),
            literal(None, Integer).label("legal_person_id"),
        )
        .select_from(MasterPerson)
        .join(PersonIdentifier, PersonIdentifier.person_id == MasterPerson.id)
        .join(Account, Account.id_number == PersonIdentifier.value)
        .where(
            MasterPerson.active.is_(True),
            MasterPerson.birth_date >= oldest.isoformat(),
            MasterPerson.birth_date <= newest,
            PersonIdentifier.scheme == PersonScheme.RESIDENT_ID,
            PersonIdentifier.problem == "",
            Account.kind == AccountKind.APPLICANT,
            Account.active.is_(True),
        )
    )


def _representatives(company_id: Any, now: datetime) -> list[ColumnElement[bool]]:
    return [
        CompanyIdentifier.company_id == company_id,
        CompanyIdentifier.scheme == CompanyScheme.USCC,
        CompanyIdentifier.problem == "",
        LegalPerson.uscc == CompanyIdentifier.value,
        LegalPersonAgent.legal_person_id == LegalPerson.id,
        LegalPersonAgent.role == AgentRole.LEGAL_REPRESENTATIVE,
        LegalPersonAgent.revoked_at.is_(None),
        or_(LegalPersonAgent.expires_at.is_(None), LegalPersonAgent.expires_at > now),
    ]


def _date_within(trigger: DateWithin, today: date, now: datetime) -> Select[Any, Any, Any, Any]:
    horizon = (today + timedelta(days=trigger.days)).isoformat()
    return (
        select(
            MasterCompany.cid.label("subject_ref"),
            CompanyValue.value.label("occasion"),
            LegalPersonAgent.account_id.label("recipient_id"),
            LegalPerson.id.label("legal_person_id"),
        )
        .select_from(CompanyValue)
        .join(MasterCompany, MasterCompany.id == CompanyValue.company_id)
        .join(CompanyIdentifier, CompanyIdentifier.company_id == MasterCompany.id)
        .join(LegalPerson, LegalPerson.uscc == CompanyIdentifier.value)
        .join(LegalPersonAgent, LegalPersonAgent.legal_person_id == LegalPerson.id)
        .where(
            CompanyValue.element == trigger.element,
            CompanyValue.value >= today.isoformat(),
            CompanyValue.value <= horizon,
            *_representatives(MasterCompany.id, now),
        )
    )


def _count_reached(trigger: CountReached, now: datetime) -> Select[Any, Any, Any, Any]:
    change = CompanyValueChange
    return (
        select(
            MasterCompany.cid.label("subject_ref"),
            literal(f"{trigger.element}>={trigger.at_least}").label("occasion"),
            LegalPersonAgent.account_id.label("recipient_id"),
            LegalPerson.id.label("legal_person_id"),
        )
        .select_from(MasterCompany)
        .join(CompanyIdentifier, CompanyIdentifier.company_id == MasterCompany.id)
        .join(LegalPerson, LegalPerson.uscc == CompanyIdentifier.value)
        .join(LegalPersonAgent, LegalPersonAgent.legal_person_id == LegalPerson.id)
        .where(
            *_representatives(MasterCompany.id, now),
            exists().where(
                change.company_id == MasterCompany.id,
                change.element == trigger.element,
                or_(change.old_value.is_(None), cast(change.old_value, Integer) < trigger.at_least),
                cast(change.new_value, Integer) >= trigger.at_least,
            ),
        )
    )


def candidates(
    spec: RuleSpec, *, today: date, now: datetime, only_subject: int | None = None
) -> CTE:
    """Who the rule reaches now and has not been offered this on this occasion yet;
    ``only_subject``: for one person or company (by id) only, the benchmark's baseline."""
    trigger = spec.trigger
    if isinstance(trigger, BirthRegistered):
        found = _birth(trigger, now)
        subject_id: Any = MasterPerson.id
    elif isinstance(trigger, AgeReached):
        found, subject_id = _age(trigger, today), MasterPerson.id
    elif isinstance(trigger, DateWithin):
        found, subject_id = _date_within(trigger, today, now), MasterCompany.id
    else:
        found, subject_id = _count_reached(trigger, now), MasterCompany.id
    if only_subject is not None:
        found = found.where(subject_id == only_subject)
    cte = found.distinct().cte("found")
    new = (
        select(cte)
        .where(
            ~exists().where(
                and_(
                    Offer.rule == spec.code,
                    Offer.recipient_id == cte.c.recipient_id,
                    Offer.subject_ref == cte.c.subject_ref,
                    Offer.occasion == cte.c.occasion,
                )
            )
        )
        .cte("new")
    )
    return new


def count(cte: CTE) -> Select[int]:
    return select(func.count()).select_from(cte)


def population(subject: str) -> Select[int]:
    if subject == "company":
        return select(func.count()).select_from(MasterCompany)
    return select(func.count()).select_from(MasterPerson).where(MasterPerson.active.is_(True))


def offers_of(run_id: int) -> Select[int]:
    return select(func.count()).select_from(Offer).where(Offer.run_id == run_id)
