"""Application queries."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from tongban.applications.models import Application, CoveredItem
from tongban.applications.states import Status
from tongban.catalog.models import ServiceItem


def _applications() -> Select[Application]:
    return select(Application).options(
        selectinload(Application.item).selectinload(ServiceItem.department),
        selectinload(Application.item).selectinload(ServiceItem.materials),
        selectinload(Application.covered)
        .selectinload(CoveredItem.item)
        .selectinload(ServiceItem.department),
        selectinload(Application.covered)
        .selectinload(CoveredItem.item)
        .selectinload(ServiceItem.materials),
        selectinload(Application.materials),
        selectinload(Application.legal_person),
        selectinload(Application.history),
    )


def _case() -> Select[Application]:
    """One case with everything its transitions, reads and read model use, in one statement:
    the item with its department and materials, the applicant's company, and the case's own
    materials and history (a handful of rows each, joined)."""
    item = joinedload(Application.item)
    return select(Application).options(
        item.joinedload(ServiceItem.department),
        item.joinedload(ServiceItem.materials),
        joinedload(Application.legal_person),
        joinedload(Application.materials),
        joinedload(Application.history),
    )


def by_number(session: Session, number: str) -> Application | None:
    application = (
        session.execute(_case().where(Application.number == number.strip().upper()))
        .unique()
        .scalar_one_or_none()
    )
    if application is not None and "covered" not in inspect(application).dict:
        set_committed_value(application, "covered", _covered(session, application))
    return application


def _covered(session: Session, application: Application) -> list[CoveredItem]:
    """The other items a bundle's department application covers (only such an application,
    which has its bundle case, covers any: others need no statement)."""
    if application.bundle_case_id is None:
        return []
    item = joinedload(CoveredItem.item)
    stmt = (
        select(CoveredItem)
        .options(item.joinedload(ServiceItem.department), item.joinedload(ServiceItem.materials))
        .where(CoveredItem.application_id == application.id)
        .order_by(CoveredItem.position)
    )
    return list(session.execute(stmt).unique().scalars())


def insert_numbered(
    session: Session, values: Callable[[str], dict[str, Any]], *, number: Callable[[], str]
) -> Application:
    """Insert an application under a number drawn by ``number``, with ``values(number)``; a
    number another application has is drawn again. One statement (INSERT ... ON CONFLICT DO
    NOTHING RETURNING), no look-up first, and no race between the look-up and the insert."""
    stmt = _INSERT_NUMBERED[session.get_bind().dialect.name == "postgresql"]
    while True:
        drawn = number()
        # The values as parameters of a statement built once: given to .values(), each was
        # coerced into an expression on every call, a measurable share of a start (issue 19).
        inserted = session.execute(stmt, {"number": drawn, **values(drawn)}).scalar_one_or_none()
        if inserted is not None:
            return inserted


_INSERT_NUMBERED = {
    postgres: (postgresql.insert if postgres else sqlite.insert)(Application)
    .on_conflict_do_nothing(index_elements=[Application.number])
    .returning(Application)
    for postgres in (True, False)
}


def loaded_as_new(application: Application, *, item: ServiceItem, legal_person: Any) -> None:
    """Give an application just inserted its item and company, and no materials, history or
    covered items yet, as loaded: what a read of it would have found."""
    set_committed_value(application, "item", item)
    set_committed_value(application, "legal_person", legal_person)
    for collection in ("materials", "history", "covered"):
        set_committed_value(application, collection, [])


def number_taken(session: Session, number: str) -> bool:
    return (
        session.execute(select(Application.id).where(Application.number == number)).first()
        is not None
    )


def of_applicant(session: Session, applicant_id: int) -> Sequence[Application]:
    stmt = _applications().where(Application.applicant_id == applicant_id)
    return session.execute(stmt.order_by(Application.created_at.desc())).scalars().all()


def of_department(
    session: Session, department_id: int, statuses: Collection[Status]
) -> Sequence[Application]:
    stmt = _applications().where(
        Application.department_id == department_id, Application.status.in_(list(statuses))
    )
    # Oldest first: the queue is worked in the order cases came in.
    return session.execute(stmt.order_by(Application.submitted_at, Application.id)).scalars().all()


def of_item(session: Session, department_id: int, item_id: int) -> Sequence[Application]:
    """Every case of one item in a department that was ever submitted (drafts are the
    applicant's alone): its own cases and the department applications that cover it."""
    covering = select(CoveredItem.application_id).where(CoveredItem.item_id == item_id)
    stmt = _applications().where(
        Application.department_id == department_id,
        or_(Application.item_id == item_id, Application.id.in_(covering)),
        Application.status != Status.DRAFT,
    )
    return session.execute(stmt.order_by(Application.submitted_at, Application.id)).scalars().all()


def batch_after(session: Session, after_id: int, size: int) -> Sequence[Application]:
    """Up to ``size`` applications with ids above ``after_id``, in id order (no relations)."""
    stmt = select(Application).where(Application.id > after_id).order_by(Application.id)
    return session.execute(stmt.limit(size)).scalars().all()


def count_all(session: Session) -> int:
    return session.execute(select(func.count(Application.id))).scalar_one()


def due_by(session: Session, day: date, statuses: Collection[Status]) -> Sequence[Application]:
    """Open cases whose promised time limit falls on or before ``day``."""
    stmt = _applications().where(
        Application.status.in_(list(statuses)),
        Application.promised_due_on.is_not(None),
        Application.promised_due_on <= day,
    )
    return session.execute(stmt.order_by(Application.promised_due_on)).scalars().all()


def of_bundle_case(session: Session, bundle_case_id: int) -> Sequence[Application]:
    stmt = _applications().where(Application.bundle_case_id == bundle_case_id)
    return session.execute(stmt.order_by(Application.id)).scalars().all()
