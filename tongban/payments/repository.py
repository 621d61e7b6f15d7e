"""Payment queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.payments.models import Payment, PaymentStatus


def by_reference(session: Session, reference: str) -> Payment | None:
    return session.execute(
        select(Payment).where(Payment.reference == reference)
    ).scalar_one_or_none()


def of_application(session: Session, application_id: int) -> Sequence[Payment]:
    stmt = select(Payment).where(Payment.application_id == application_id).order_by(Payment.id)
    return session.execute(stmt).scalars().all()


def settled_for(session: Session, application_id: int) -> Payment | None:
    """The payment that settles the case's fee: taken and not refunded."""
    stmt = select(Payment).where(
        Payment.application_id == application_id, Payment.status == PaymentStatus.SUCCESS
    )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def of_department_between(
    session: Session, department_id: int, start: datetime, end: datetime
) -> Sequence[Payment]:
    """Payments of the department taken or refunded in [start, end)."""
    stmt = (
        select(Payment)
        .where(
            Payment.department_id == department_id,
            or_(
                Payment.paid_at.between(start, end),
                Payment.refunded_at.between(start, end),
            ),
        )
        .order_by(Payment.id)
    )
    return session.execute(stmt).scalars().all()
