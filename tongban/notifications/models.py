"""Notifications: one row per message to one person on one channel, with its delivery status."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"
    IN_APP = "in_app"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # in the outbox, not yet tried
    RETRYING = "retrying"  # a try failed for now; the dispatcher tries again later
    DELIVERED = "delivered"  # the sender (SMTP server, SMS gateway, inbox) took it
    FAILED = "failed"  # refused for good, or out of retries: an administrator must look


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_event_reference", "event", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    # The account it is for; None for a bulk message to a bare phone number or address.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Phone number, e-mail address, or the account's username for in-app messages.
    address: Mapped[str] = mapped_column(String(254))
    # What it is about (an application number), so a case's messages can be listed.
    reference: Mapped[str] = mapped_column(String(80), default="")
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # An in-app message in English as well, for a reader who chose English (the inbox picks).
    subject_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    body_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The sender's own id for the message (SMTP Message-ID, SMS gateway id).
    provider_reference: Mapped[str] = mapped_column(String(200), default="")
    # Messages sent together by one bulk request share its id.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id"), unique=True
    )
