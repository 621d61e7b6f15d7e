"""One-time codes that let someone without an account follow an application's progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


class TrackingCode(Base):
    __tablename__ = "tracking_codes"
    __table_args__ = (Index("ix_tracking_codes_number_created", "number", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The application number asked about; a row exists even for a number that does not, so
    # the answers (and the rate limit) are the same either way.
    number: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(10))
    # HMAC of the code, keyed per row: the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
