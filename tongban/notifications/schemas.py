"""API shapes for notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tongban.notifications.models import Channel, DeliveryStatus

MAX_BULK_ROWS = 1000


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: str
    channel: Channel
    address: str
    reference: str
    subject: str
    body: str
    status: DeliveryStatus
    attempts: int
    last_error: str
    provider_reference: str
    batch: str | None
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    read_at: datetime | None


class BulkRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(
        min_length=1,
        max_length=254,
        description="A username (its phone, e-mail or inbox by channel), or a phone number or "
        "e-mail address for the sms or email channel.",
    )
    personalisation: dict[str, str] = Field(default_factory=dict)
    reference: str = Field(default="", max_length=80)


class BulkSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(examples=["notice"])
    channel: Channel
    rows: list[BulkRow] = Field(min_length=1, max_length=MAX_BULK_ROWS)


class BulkResult(BaseModel):
    batch: str
    queued: int
    notification_ids: list[int]


class CountRow(BaseModel):
    event: str
    channel: Channel
    status: DeliveryStatus
    count: int


class TemplateRead(BaseModel):
    event: str
    name_zh: str
    name_en: str
    fields: list[str]
    channels: list[Channel]
