"""Good/bad evaluations (好差评) of cases and the rectification cases a bad one opens."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Level(enum.IntEnum):
    """The five national levels, best first."""

    VERY_SATISFIED = 5  # 非常满意
    SATISFIED = 4  # 满意
    BASICALLY_SATISFIED = 3  # 基本满意
    DISSATISFIED = 2  # 不满意
    VERY_DISSATISFIED = 1  # 非常不满意


class EvaluationChannel(enum.StrEnum):
    ONLINE = "online"
    COUNTER = "counter"


class RectificationStatus(enum.StrEnum):
    OPEN = "open"  # the department has to reply
    REPLIED = "replied"  # replied to the applicant; the call-back is still to make
    CLOSED = "closed"  # called back and recorded


class Evaluation(Base):
    __tablename__ = "evaluations"
    # Once per case per applicant.
    __table_args__ = (UniqueConstraint("application_id", "applicant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[str] = mapped_column(String(24))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), index=True)
    channel: Mapped[EvaluationChannel] = mapped_column(_enum(EvaluationChannel))
    # The overall level; each indicator's level is in ``indicators``.
    level: Mapped[int]
    indicators: Mapped[dict[str, int]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Rectification(Base):
    """A bad rating's case for the responsible department: reply, call back, or escalate."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    number: Mapped[str] = mapped_column(String(24), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[RectificationStatus] = mapped_column(
        _enum(RectificationStatus), default=RectificationStatus.OPEN, index=True
    )
    # What the case's history shows: each step with its officer and working days, and the one
    # that passed the promised time limit.
    trace: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_on: Mapped[date]
    created_at: Mapped[datetime]
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    replied_at: Mapped[datetime | None]
    callback_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    callback_at: Mapped[datetime | None]
    callback_satisfied: Mapped[bool | None]
    callback_note: Mapped[str] = mapped_column(Text, default="")
    escalated_at: Mapped[datetime | None]
