"""Department systems, their connectors, the transactional outbox and inbound callbacks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base, TimestampMixin
from tongban.db.delivery import LeasedDelivery, MessageStatus
from tongban.security import wrapped

__all__ = ["MessageStatus"]


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class ConnectorKind(enum.StrEnum):
    API = "api"
    FILE = "file"
    DATABASE = "database"


def _secret_owner(system: DepartmentSystem) -> str:
    assert system.code, "set the code before the secret"
    return wrapped.system_owner(system.code)


class DepartmentSystem(TimestampMixin, Base):
    """A department's own information system that docks with the platform."""

    __tablename__ = "department_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    # Shared secret for signed requests in both directions (HMAC-SHA256).
    # Wrapped with the key ring (security.wrapped): read and set it as ``secret``.
    secret_wrapped: Mapped[str] = mapped_column("secret", String(1000))
    secret = wrapped.WrappedText("secret_wrapped", owner=_secret_owner)
    # The official account the system acts as when it reports back (a decision, a return): its
    # actions pass the same policy checks and audit as a person's. It cannot sign in.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # Where the platform asks for data the department holds on a person (once-only prefill).
    lookup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)


class Connector(TimestampMixin, Base):
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ConnectorKind] = mapped_column(_enum(ConnectorKind))
    # Kind-specific settings (endpoint URL, directory, database URL and table), validated on load.
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Platform field -> department field.
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    # Event types this connector receives; a trailing ".*" matches a family.
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(LeasedDelivery, Base):
    """An event for one connector, written in the same transaction as the change it reports.

    A message goes either to a department's connector or to a platform delivery ``target`` (the
    notifications sender): one outbox, one dispatcher, delivered through ``db.delivery`` (lease,
    retries with backoff, dead letters).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint("(connector_id IS NULL) <> (target IS NULL)", name="connector_or_target"),
    )

    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(20))
    event_type: Mapped[str] = mapped_column(String(80))
    aggregate_id: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Sent with every delivery attempt so the receiver can drop duplicates.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The web request whose transaction queued it (None from a worker or the command line).
    request_id: Mapped[str | None] = mapped_column(String(32))


class InboundCallback(Base):
    """A department's callback, kept once per idempotency key so a retry does nothing twice."""

    __tablename__ = "inbound_callbacks"
    __table_args__ = (UniqueConstraint("system_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("department_systems.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the platform answered the first time; a duplicate gets the same answer.
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
