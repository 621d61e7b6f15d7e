"""The data resource catalog, sharing requests and grants, and the gateway's call log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db.base import Base, TimestampMixin


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Sharing(enum.StrEnum):
    """The sharing condition of a data item (共享属性)."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    # Some of the conditional items were approved, or none while unconditional ones were.
    PARTIAL = "partial"
    DENIED = "denied"


class InformationResource(TimestampMixin, Base):
    """An information resource (信息资源) a department holds, e.g. marriage registrations."""

    __tablename__ = "exchange_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    # The department system that serves it (through its lookup), or None when the platform's
    # own store does (``store`` names which).
    system_id: Mapped[int | None] = mapped_column(ForeignKey("department_systems.id"))
    store: Mapped[str | None] = mapped_column(String(40))
    # What a record is looked up by, e.g. id_number.
    key: Mapped[str] = mapped_column(String(40))
    update_frequency: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(40))
    open_data: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime | None]

    items: Mapped[list[ResourceItem]] = relationship(
        back_populates="resource",
        lazy="raise",
        order_by="ResourceItem.position",
        cascade="all, delete-orphan",
    )


class ResourceItem(Base):
    """A data item of a resource (信息项), with its label and sharing condition."""

    __tablename__ = "exchange_items"
    __table_args__ = (UniqueConstraint("resource_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_resources.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    meaning_zh: Mapped[str] = mapped_column(Text, default="")
    meaning_en: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(200), default="")
    # The standard data element it is, where one exists (resources.DataElement code).
    element: Mapped[str | None] = mapped_column(String(40))
    security_label: Mapped[str] = mapped_column(String(400))
    semantic: Mapped[str] = mapped_column(String(40), default="other")
    maintainer: Mapped[str] = mapped_column(String(100))
    sharing: Mapped[Sharing] = mapped_column(_enum(Sharing))
    condition_zh: Mapped[str] = mapped_column(Text, default="")
    condition_en: Mapped[str] = mapped_column(Text, default="")
    # For conditional items: the purposes a request may state.
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why an item is not shared (or what allows the condition).
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    # The providing system's own field name for the item.
    source_field: Mapped[str] = mapped_column(String(80))
    # The sharing condition asks for the person's consent before their record is fetched for
    # their application (``exchange.service.materials``).
    consent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    resource: Mapped[InformationResource] = relationship(back_populates="items", lazy="raise")


class SharingRequest(Base):
    """A department asks for named items of a resource, for a purpose, for a period."""

    __tablename__ = "exchange_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("exchange_resources.id"), index=True)
    requester_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requester_system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(60))
    purpose_text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    days: Mapped[int]
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    requested_at: Mapped[datetime]
    # The conditional items waiting for the providing department's approver.
    pending_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class Grant(Base):
    """What a requesting system may fetch: items of one resource, for one purpose, until a time."""

    __tablename__ = "exchange_grants"
    __table_args__ = (Index("ix_exchange_grants_lookup", "system_id", "resource_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("exchange_requests.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("exchange_resources.id"))
    system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(60))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Calls a minute, counted in fixed one-minute windows.
    rate_per_minute: Mapped[int]
    window_start: Mapped[datetime | None]
    window_calls: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")


class GatewayCall(Base):
    """One call to the gateway, served or refused, logged in the call's own transaction: the
    usage figures' source. The values returned are never kept; the subjects are kept as keyed
    hashes (joinable, not readable). Its audit entry (which names it by id) is journaled with it;
    the database refuses any change to the row, and deleting it, as it does for audit entries.
    """

    __tablename__ = "exchange_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("department_systems.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_resources.id"), index=True)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_grants.id"))
    purpose: Mapped[str] = mapped_column(String(60))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    keys: Mapped[int] = mapped_column(default=0)
    found: Mapped[int] = mapped_column(default=0)
    # "ok", or the error code of the refusal.
    outcome: Mapped[str] = mapped_column(String(40), index=True)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The resource code as asked for (also when no resource has it): the audit entry's target.
    resource_code: Mapped[str] = mapped_column(String(80), server_default="")
    # The account the calling system acts as (the audit entry's actor).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
