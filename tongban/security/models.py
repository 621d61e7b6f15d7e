"""Clearances, label overrides and the dual-controlled changes that set them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class ChangeKind(enum.StrEnum):
    CLEARANCE = "clearance"
    LABEL = "label"


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


class Clearance(TimestampMixin, Base):
    """What one account (a person, or a department system's account) may read."""

    __tablename__ = "security_clearances"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    # The compact form, ``important:health,tax``.
    clearance: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime]
    # The approved change that set it; None when the operator set it at the command line.
    change_id: Mapped[int | None] = mapped_column(ForeignKey("security_changes.id"))


class LabelOverride(TimestampMixin, Base):
    """A label an administrator changed from what the data file says: it wins over the file."""

    __tablename__ = "security_label_overrides"

    # ``field:<ITEM>.<field>``: what the label is on.
    target: Mapped[str] = mapped_column(String(120), primary_key=True)
    label: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime]
    change_id: Mapped[int | None] = mapped_column(ForeignKey("security_changes.id"))


class SecurityChange(Base):
    """A proposed clearance or label change: one administrator proposes, another decides."""

    __tablename__ = "security_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChangeKind] = mapped_column(_enum(ChangeKind))
    # ``account:<id>`` or ``field:<ITEM>.<field>``.
    target: Mapped[str] = mapped_column(String(120), index=True)
    # What people see: a username or ``ITEM.field``.
    target_name: Mapped[str] = mapped_column(String(120))
    value: Mapped[str] = mapped_column(String(400))
    previous: Mapped[str | None] = mapped_column(String(400))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ChangeStatus] = mapped_column(_enum(ChangeStatus), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    proposed_by_name: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
