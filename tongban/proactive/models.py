"""Proactive service (主动服务、免申即享): the runs of the rules and the offers they made."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class RunStatus(enum.StrEnum):
    DONE = "done"
    # The rule would reach more than the configured share of the population: nothing was sent;
    # an administrator confirms the run (or lets it lapse).
    PENDING = "pending"
    CONFIRMED = "confirmed"


class OfferStatus(enum.StrEnum):
    OFFERED = "offered"
    APPLIED = "applied"  # the person confirmed: an application was made from it
    DECLINED = "declined"
    GRANTED = "granted"  # 免申即享: granted without application


class ProactiveRun(Base):
    __tablename__ = "proactive_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), index=True)
    population: Mapped[int]
    candidates: Mapped[int]
    offers: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    confirmed_at: Mapped[datetime | None]


class Offer(Base):
    """One rule offering one service to one account on one occasion (the child, the birthday,
    the licence's end date): the unique key is what makes a second run offer nothing again."""

    __tablename__ = "proactive_offers"
    __table_args__ = (
        UniqueConstraint("rule", "recipient_id", "subject_ref", "occasion"),
        Index("ix_proactive_offers_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(60))
    # Whom the occasion is about: a person's or a company's platform ID (the child, not the
    # parent; the company, not its representative).
    subject_ref: Mapped[str] = mapped_column(String(20))
    occasion: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Set when the offer is to a company: its representative applies for it.
    legal_person_id: Mapped[int | None] = mapped_column(ForeignKey("legal_persons.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("proactive_runs.id"), index=True)
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus))
    created_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    application_number: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
