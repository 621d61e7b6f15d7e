"""Payments of a case's fee (GOV.UK Pay's model): made here, taken by a provider, confirmed by
the provider's signed notification or by asking it; and refunds of them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin
from tongban.db.delivery import status_enum


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # made here; the provider has not been asked yet
    STARTED = "started"  # the provider has it; the person is sent to its pages
    SUCCESS = "success"  # the provider says the money was taken
    FAILED = "failed"  # declined or cancelled at the provider: the person may try again
    TIMED_OUT = "timed_out"  # abandoned at the provider: the person may try again
    REFUNDED = "refunded"  # taken, then given back in full


# What a notification may still change: a final state stays as it is (a late or repeated
# notification changes nothing); only a refund leaves SUCCESS.
IN_FLIGHT = frozenset({PaymentStatus.CREATED, PaymentStatus.STARTED})
FINAL_AT_PROVIDER = frozenset(
    {PaymentStatus.SUCCESS, PaymentStatus.FAILED, PaymentStatus.TIMED_OUT}
)


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unguessable: it names the payment in the return address and to the provider.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[str] = mapped_column(String(24), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Integer fen (分): money is never a float.
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300))
    status: Mapped[PaymentStatus] = mapped_column(status_enum(PaymentStatus), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    provider_id: Mapped[str | None] = mapped_column(String(80), index=True)
    next_url: Mapped[str] = mapped_column(Text, default="")
    failure: Mapped[str] = mapped_column(String(200), default="")
    # When the provider took the money (its own time), the day reconciliation counts it.
    paid_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    refund_id: Mapped[str | None] = mapped_column(String(80))
    refund_reason: Mapped[str] = mapped_column(Text, default="")
    refunded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
