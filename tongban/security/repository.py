"""Security queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.orm import Session

from tongban.security.models import (
    ChangeStatus,
    Clearance,
    LabelOverride,
    SecurityChange,
)


def clearance(session: Session, account_id: int) -> Clearance | None:
    return session.get(Clearance, account_id)


def clearance_text(account_id: ColumnElement[int]) -> ScalarSelect[str]:
    """The account's clearance as stored (None when nobody cleared it), for another domain's
    statement to carry: the gateway reads it in the one statement that counts a call."""
    return select(Clearance.clearance).where(Clearance.account_id == account_id).scalar_subquery()


def label_override(session: Session, target: str) -> LabelOverride | None:
    return session.get(LabelOverride, target)


def label_overrides(session: Session, prefix: str) -> dict[str, str]:
    """Overridden labels whose target starts with ``prefix``, by target."""
    rows = session.execute(
        select(LabelOverride.target, LabelOverride.label).where(
            LabelOverride.target.startswith(prefix, autoescape=True)
        )
    )
    return {row.target: row.label for row in rows}


def change(session: Session, change_id: int) -> SecurityChange | None:
    return session.get(SecurityChange, change_id)


def changes(session: Session, status: ChangeStatus | None) -> Sequence[SecurityChange]:
    stmt = select(SecurityChange)
    if status is not None:
        stmt = stmt.where(SecurityChange.status == status)
    return session.execute(stmt.order_by(SecurityChange.id.desc()).limit(500)).scalars().all()


def pending_for(session: Session, target: str) -> SecurityChange | None:
    return session.execute(
        select(SecurityChange).where(
            SecurityChange.target == target, SecurityChange.status == ChangeStatus.PENDING
        )
    ).scalar_one_or_none()
