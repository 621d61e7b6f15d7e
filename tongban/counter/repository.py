"""Counter visit queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.counter.models import CounterVisit


def by_id(session: Session, visit_id: int) -> CounterVisit | None:
    return session.get(CounterVisit, visit_id)


def count_for(session: Session, application_id: int) -> int:
    stmt = select(func.count(CounterVisit.id)).where(CounterVisit.application_id == application_id)
    return session.execute(stmt).scalar_one()


def of_clerk(session: Session, clerk_id: int, *, limit: int = 50) -> Sequence[CounterVisit]:
    stmt = (
        select(CounterVisit)
        .where(CounterVisit.clerk_id == clerk_id)
        .order_by(CounterVisit.id.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def of_application(session: Session, application_id: int) -> Sequence[CounterVisit]:
    stmt = (
        select(CounterVisit)
        .where(CounterVisit.application_id == application_id)
        .order_by(CounterVisit.id)
    )
    return session.execute(stmt).scalars().all()
