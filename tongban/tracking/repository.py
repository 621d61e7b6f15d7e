"""Tracking code queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.tracking.models import TrackingCode


def latest_live(session: Session, number: str, now: datetime) -> TrackingCode | None:
    """The newest unused, unexpired code for ``number`` (a newer request replaces older ones)."""
    stmt = (
        select(TrackingCode)
        .where(TrackingCode.number == number, TrackingCode.expires_at > now)
        .order_by(TrackingCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    code = session.execute(stmt).scalar_one_or_none()
    return code if code is not None and code.used_at is None else None


def count_attempt(session: Session, code_id: int) -> int:
    """Add one to the code's attempts in the database itself (two wrong codes at the same
    moment both count) and return the new count."""
    attempts = session.execute(
        update(TrackingCode)
        .where(TrackingCode.id == code_id)
        .values(attempts=TrackingCode.attempts + 1)
        .returning(TrackingCode.attempts)
    ).scalar_one()
    return int(attempts)
