"""Queries of the master data registers (the only place in the domain with ``select``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from tongban.identity.models import Account
from tongban.resources.models import (
    CompanyIdentifier,
    CompanyScheme,
    Conflict,
    ConflictStatus,
    DataElement,
    ElementValue,
    LinkEvent,
    MasterCompany,
    MasterPerson,
    MatchReview,
    PersonIdentifier,
    PersonRelation,
    PersonScheme,
    ReviewStatus,
    SourceRecord,
    ValueChange,
)


def person_by_pid(session: Session, pid: str) -> MasterPerson | None:
    return session.execute(select(MasterPerson).where(MasterPerson.pid == pid)).scalar_one_or_none()


def persons_by_ids(session: Session, ids: set[int]) -> dict[int, MasterPerson]:
    if not ids:
        return {}
    found = session.execute(select(MasterPerson).where(MasterPerson.id.in_(ids))).scalars()
    return {p.id: p for p in found}


def persons_with_identifier(
    session: Session, scheme: PersonScheme, value: str
) -> list[MasterPerson]:
    stmt = (
        select(MasterPerson)
        .join(PersonIdentifier, PersonIdentifier.person_id == MasterPerson.id)
        .where(PersonIdentifier.scheme == scheme, PersonIdentifier.value == value)
        .distinct()
        .order_by(MasterPerson.id)
    )
    return list(session.execute(stmt).scalars())


def identifiers_of(session: Session, person_id: int) -> list[PersonIdentifier]:
    stmt = (
        select(PersonIdentifier)
        .where(PersonIdentifier.person_id == person_id)
        .order_by(PersonIdentifier.scheme, PersonIdentifier.value, PersonIdentifier.id)
    )
    return list(session.execute(stmt).scalars())


def identifiers_of_record(session: Session, record_id: int) -> list[PersonIdentifier]:
    stmt = select(PersonIdentifier).where(PersonIdentifier.record_id == record_id)
    return list(session.execute(stmt).scalars())


def company_by_cid(session: Session, cid: str) -> MasterCompany | None:
    stmt = select(MasterCompany).where(MasterCompany.cid == cid)
    return session.execute(stmt).scalar_one_or_none()


def companies_with_identifier(
    session: Session, scheme: CompanyScheme, value: str
) -> list[MasterCompany]:
    stmt = (
        select(MasterCompany)
        .join(CompanyIdentifier, CompanyIdentifier.company_id == MasterCompany.id)
        .where(CompanyIdentifier.scheme == scheme, CompanyIdentifier.value == value)
        .distinct()
        .order_by(MasterCompany.id)
    )
    return list(session.execute(stmt).scalars())


def company_identifiers_of(session: Session, company_id: int) -> list[CompanyIdentifier]:
    stmt = (
        select(CompanyIdentifier)
        .where(CompanyIdentifier.company_id == company_id)
        .order_by(CompanyIdentifier.scheme, CompanyIdentifier.value)
    )
    return list(session.execute(stmt).scalars())


def records_by_local_id(
    session: Session, source: str, local_ids: list[str]
) -> dict[str, SourceRecord]:
    found: dict[str, SourceRecord] = {}
    for start in range(0, len(local_ids), 500):
        stmt = select(SourceRecord).where(
            SourceRecord.source == source, SourceRecord.local_id.in_(local_ids[start : start + 500])
        )
        found.update({r.local_id: r for r in session.execute(stmt).scalars()})
    return found


def all_records(session: Session) -> Sequence[SourceRecord]:
    return session.execute(select(SourceRecord).order_by(SourceRecord.id)).scalars().all()


def records_by_ids(session: Session, ids: set[int]) -> dict[int, SourceRecord]:
    if not ids:
        return {}
    found = session.execute(select(SourceRecord).where(SourceRecord.id.in_(ids))).scalars()
    return {r.id: r for r in found}


def records_of(session: Session, person_id: int) -> list[SourceRecord]:
    stmt = (
        select(SourceRecord)
        .where(SourceRecord.person_id == person_id)
        .order_by(SourceRecord.source, SourceRecord.id)
    )
    return list(session.execute(stmt).scalars())


def record_count(session: Session, person_id: int) -> int:
    stmt = select(func.count()).where(SourceRecord.person_id == person_id)
    return int(session.execute(stmt).scalar_one())


def review_pairs(session: Session) -> dict[tuple[int, int], MatchReview]:
    reviews = session.execute(select(MatchReview)).scalars()
    return {(r.record_a_id, r.record_b_id): r for r in reviews}


def reviews_of_record(
    session: Session, record_id: int, others: set[int]
) -> dict[tuple[int, int], MatchReview]:
    """The reviews of pairs of ``record_id`` with any of ``others``."""
    if not others:
        return {}
    stmt = select(MatchReview).where(
        ((MatchReview.record_a_id == record_id) & MatchReview.record_b_id.in_(others))
        | ((MatchReview.record_b_id == record_id) & MatchReview.record_a_id.in_(others))
    )
    return {(r.record_a_id, r.record_b_id): r for r in session.execute(stmt).scalars()}


def pending_review_count(session: Session) -> int:
    stmt = select(func.count()).where(MatchReview.status == ReviewStatus.PENDING)
    return int(session.execute(stmt).scalar_one())


def record_total(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(SourceRecord)).scalar_one())


def distinct_pairs(session: Session) -> set[tuple[int, int]]:
    stmt = select(MatchReview.record_a_id, MatchReview.record_b_id).where(
        MatchReview.status == ReviewStatus.DISTINCT
    )
    return {(a, b) for a, b in session.execute(stmt)}


def reviews(
    session: Session, status: ReviewStatus | None, limit: int, *, by_probability: bool = True
) -> list[MatchReview]:
    order = (
        (MatchReview.match_probability.desc(), MatchReview.id)
        if by_probability
        else (MatchReview.id.desc(),)
    )
    stmt = select(MatchReview).order_by(*order)
    if status is not None:
        stmt = stmt.where(MatchReview.status == status)
    return list(session.execute(stmt.limit(limit)).scalars())


def link_events_of(session: Session, person_id: int) -> list[LinkEvent]:
    stmt = (
        select(LinkEvent)
        .where((LinkEvent.to_person_id == person_id) | (LinkEvent.from_person_id == person_id))
        .order_by(LinkEvent.id.desc())
    )
    return list(session.execute(stmt).scalars())


def elements(session: Session) -> list[DataElement]:
    return list(session.execute(select(DataElement).order_by(DataElement.id)).scalars())


def element_values(session: Session, person_id: int) -> dict[str, ElementValue]:
    stmt = select(ElementValue).where(ElementValue.person_id == person_id)
    return {v.element: v for v in session.execute(stmt).scalars()}


def conflicts_of(session: Session, person_id: int) -> dict[tuple[str, str], Conflict]:
    stmt = select(Conflict).where(Conflict.person_id == person_id)
    return {(c.element, c.other_source): c for c in session.execute(stmt).scalars()}


def _conflicts() -> Select[Conflict, str, str | None]:
    """Conflicts with the person's pid and the username of whoever closed them."""
    return (
        select(Conflict, MasterPerson.pid, Account.username)
        .join(MasterPerson, MasterPerson.id == Conflict.person_id)
        .outerjoin(Account, Account.id == Conflict.closed_by_id)
    )


def conflicts(
    session: Session, *, authority: str | None, status: ConflictStatus | None, limit: int
) -> list[tuple[Conflict, str, str | None]]:
    stmt = _conflicts()
    if authority is not None:
        stmt = stmt.where(Conflict.authority == authority)
    if status is not None:
        stmt = stmt.where(Conflict.status == status)
    rows = session.execute(stmt.order_by(Conflict.id.desc()).limit(limit))
    return [(c, pid, closer) for c, pid, closer in rows]


def conflict_by_id(session: Session, conflict_id: int) -> tuple[Conflict, str, str | None] | None:
    row = session.execute(_conflicts().where(Conflict.id == conflict_id)).tuples().first()
    return (row[0], row[1], row[2]) if row is not None else None


def value_changes(session: Session, person_id: int) -> list[ValueChange]:
    stmt = select(ValueChange).where(ValueChange.person_id == person_id).order_by(ValueChange.id)
    return list(session.execute(stmt).scalars())


def authoritative_values(session: Session) -> dict[tuple[int, str], str | None]:
    stmt = select(ElementValue.person_id, ElementValue.element, ElementValue.value)
    return {(p, e): v for p, e, v in session.execute(stmt)}


_VALUES_BY_RESIDENT_IDS = (
    select(
        PersonIdentifier.value,
        ElementValue.person_id,
        ElementValue.element,
        ElementValue.value,
    )
    .join(ElementValue, ElementValue.person_id == PersonIdentifier.person_id)
    .where(
        PersonIdentifier.scheme == PersonScheme.RESIDENT_ID,
        PersonIdentifier.value.in_(bindparam("id_numbers", expanding=True)),
    )
)


def values_by_resident_ids(
    session: Session, id_numbers: Sequence[str]
) -> list[tuple[str, int, str, str | None]]:
    """(resident ID, person id, element, value) for every authoritative value of the persons
    holding these resident IDs: one indexed query for a whole batch (a plain statement: the
    exchange gateway runs it on every call)."""
    if not id_numbers:
        return []
    rows = session.connection().execute(_VALUES_BY_RESIDENT_IDS, {"id_numbers": list(id_numbers)})
    return [(key, person, element, value) for key, person, element, value in rows]


def has_children(session: Session, person_id: int) -> bool:
    stmt = select(PersonRelation.id).where(PersonRelation.relative_id == person_id).limit(1)
    return session.execute(stmt).first() is not None
