"""Application queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from tongban.applications.models import Application
from tongban.applications.states import Status
from tongban.catalog.models import ServiceItem


def _applications() -> Select[Application]:
    return select(Application).options(
        selectinload(Application.item).selectinload(ServiceItem.department),
        selectinload(Application.item).selectinload(ServiceItem.materials),
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
