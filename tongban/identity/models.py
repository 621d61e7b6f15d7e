"""Accounts and their sign-in sessions (a local login until unified identity replaces it)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin


class AccountKind(enum.StrEnum):
    APPLICANT = "applicant"
    OFFICIAL = "official"
    ADMIN = "admin"


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AccountKind] = mapped_column(
        Enum(
            AccountKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    # Officials belong to one department and see only its work.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # One account per resident: the ID number is the person's key until master data exists.
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def is_official(self) -> bool:
        return self.kind is AccountKind.OFFICIAL

    @property
    def is_applicant(self) -> bool:
        return self.kind is AccountKind.APPLICANT


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash of the token is stored: a database leak does not hand out sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
