"""Visits at the single window (综合窗口) and the document each ended with."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


class Outcome(enum.StrEnum):
    RECEIPT = "receipt"  # 受理回执: complete, accepted and routed to the department
    NOTICE = "notice"  # 一次性告知书: everything still missing, told at once


class CounterVisit(Base):
    __tablename__ = "counter_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[str] = mapped_column(String(24), index=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    clerk_name: Mapped[str] = mapped_column(String(100))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    outcome: Mapped[Outcome] = mapped_column(
        Enum(Outcome, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    # The document's own number, printed on it (the application number plus a visit counter).
    document_number: Mapped[str] = mapped_column(String(40), unique=True)
    # For a notice: what was missing, as shown on it ({"kind", "name_zh", "name_en", ...}).
    missing: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime]
