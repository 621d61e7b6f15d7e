"""Tracking code queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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
