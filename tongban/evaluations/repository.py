"""Evaluation and rectification queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.applications.models import CoveredItem
from tongban.evaluations.models import Evaluation, Rectification, RectificationStatus


def evaluation_of(session: Session, application_id: int, applicant_id: int) -> Evaluation | None:
    return session.execute(
        select(Evaluation).where(
            Evaluation.application_id == application_id,
            Evaluation.applicant_id == applicant_id,
        )
    ).scalar_one_or_none()


def rectification_of(session: Session, evaluation_id: int) -> Rectification | None:
    return session.execute(
        select(Rectification).where(Rectification.evaluation_id == evaluation_id)
    ).scalar_one_or_none()


def rectification(session: Session, rectification_id: int) -> Rectification | None:
    return session.get(Rectification, rectification_id)


def evaluation(session: Session, evaluation_id: int) -> Evaluation | None:
    return session.get(Evaluation, evaluation_id)


def of_department(
    session: Session, department_id: int, status: RectificationStatus | None
) -> Sequence[Rectification]:
    stmt = select(Rectification).where(Rectification.department_id == department_id)
    if status is not None:
        stmt = stmt.where(Rectification.status == status)
    return session.execute(stmt.order_by(Rectification.due_on, Rectification.id)).scalars().all()


def overdue(session: Session, today: date) -> Sequence[Rectification]:
    stmt = select(Rectification).where(
        Rectification.status == RectificationStatus.OPEN,
        Rectification.due_on < today,
        Rectification.escalated_at.is_(None),
    )
    return session.execute(stmt.order_by(Rectification.id)).scalars().all()


def department_level_counts(session: Session) -> list[tuple[int, int, int]]:
    """(department id, level, count) over all evaluations."""
    stmt = select(Evaluation.department_id, Evaluation.level, func.count()).group_by(
        Evaluation.department_id, Evaluation.level
    )
    return [(d, lvl, n) for d, lvl, n in session.execute(stmt)]


def item_level_counts(session: Session) -> list[tuple[int, int, int]]:
    """(item id, level, count) over all evaluations: the rating of a department application
    counts for each item it covers (an item may come twice, its own cases' and the covered)."""
    own = select(Evaluation.item_id, Evaluation.level, func.count()).group_by(
        Evaluation.item_id, Evaluation.level
    )
    covered = (
        select(CoveredItem.item_id, Evaluation.level, func.count())
        .join(CoveredItem, CoveredItem.application_id == Evaluation.application_id)
        .group_by(CoveredItem.item_id, Evaluation.level)
    )
    return [(i, lvl, n) for stmt in (own, covered) for i, lvl, n in session.execute(stmt)]


def rectification_counts(session: Session) -> list[tuple[int, str, int, int]]:
    """(department id, status, cases, of them escalated) over all rectifications."""
    stmt = select(
        Rectification.department_id,
        Rectification.status,
        func.count(),
        func.count(Rectification.escalated_at),
    ).group_by(Rectification.department_id, Rectification.status)
    return [(d, RectificationStatus(s).value, n, e) for d, s, n, e in session.execute(stmt)]
