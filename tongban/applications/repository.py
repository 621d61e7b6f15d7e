"""Application queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

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


def by_number(session: Session, number: str) -> Application | None:
    return session.execute(
        _applications().where(Application.number == number.strip().upper())
    ).scalar_one_or_none()


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
