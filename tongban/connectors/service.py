"""The connectors domain's public API: find systems, watch health, handle dead letters
(registering a system is ``integration.docking``; its callbacks ``integration.callbacks``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.connectors import policy
from tongban.connectors.errors import MessageNotFound, SystemNotFound
from tongban.connectors.models import (
    Connector,
    DepartmentSystem,
    MessageStatus,
    OutboxMessage,
)
from tongban.db import delivery
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow


def system_for_request(session: Session, code: str | None) -> DepartmentSystem | None:
    """The active system a signed request claims to come from (the signature is checked by
    the caller with the system's secret)."""
    if not code:
        return None
    return session.execute(
        select(DepartmentSystem).where(
            DepartmentSystem.code == code, DepartmentSystem.active.is_(True)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class ConnectorHealth:
    system: str
    connector: str
    kind: str
    active: bool
    pending: int
    dead: int
    oldest_pending_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str

    @property
    def lag_seconds(self) -> float:
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (utcnow() - self.oldest_pending_at).total_seconds())


def health(session: Session, subject: Principal) -> list[ConnectorHealth]:
    policy.require_manage_connectors(subject)
    counts: dict[tuple[int, MessageStatus], int] = {}
    oldest: dict[int, datetime] = {}
    for connector_id, status, count, first in session.execute(
        select(
            OutboxMessage.connector_id,
            OutboxMessage.status,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        # Messages for platform targets (notifications) have their own status page.
        .where(
            OutboxMessage.status != MessageStatus.DELIVERED,
            OutboxMessage.connector_id.is_not(None),
        )
        .group_by(OutboxMessage.connector_id, OutboxMessage.status)
    ):
        assert connector_id is not None
        counts[(connector_id, status)] = count
        if status is MessageStatus.PENDING:
            oldest[connector_id] = first
    rows = session.execute(
        select(Connector, DepartmentSystem)
        .join(DepartmentSystem, Connector.system_id == DepartmentSystem.id)
        .order_by(DepartmentSystem.code, Connector.name)
    ).all()
    return [
        ConnectorHealth(
            system=system.code,
            connector=c.name,
            kind=c.kind.value,
            active=c.active,
            pending=counts.get((c.id, MessageStatus.PENDING), 0),
            dead=counts.get((c.id, MessageStatus.DEAD), 0),
            oldest_pending_at=oldest.get(c.id),
            last_success_at=c.last_success_at,
            last_failure_at=c.last_failure_at,
            last_error=c.last_error,
        )
        for c, system in rows
    ]


def dead_letters(
    session: Session, subject: Principal, *, limit: int = 100
) -> Sequence[OutboxMessage]:
    policy.require_manage_connectors(subject)
    return (
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.DEAD)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def retry(session: Session, subject: Principal, message_id: int) -> OutboxMessage:
    """Send a dead message again, from a fresh retry budget."""
    policy.require_manage_connectors(subject)
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status is not MessageStatus.DEAD:
        raise MessageNotFound("No dead message {id}.", id=message_id)
    delivery.revive(message)
    audit.record(
        session,
        actor=subject,
        action="connectors.message_retried",
        target_type="outbox_message",
        target_id=str(message.id),
        details={"last_error": message.last_error[:200]},
    )
    return message


def get_system(session: Session, subject: Principal, code: str) -> DepartmentSystem:
    policy.require_manage_connectors(subject)
    system = session.execute(
        select(DepartmentSystem).where(DepartmentSystem.code == code)
    ).scalar_one_or_none()
    if system is None:
        raise SystemNotFound("No department system has the code {code}.", code=code)
    return system
