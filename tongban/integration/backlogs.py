"""What waits for the workers: read for /metrics and for /readyz (a backlog past its threshold
means a worker is missing or behind)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from tongban.audit.models import AuditJournal
from tongban.connectors.models import OutboxMessage
from tongban.db.delivery import MessageStatus
from tongban.kit.clock import utcnow
from tongban.notifications.models import DeliveryStatus, Notification


@dataclass(frozen=True)
class Backlogs:
    outbox_due: int
    outbox_dead: int
    journal: int
    notifications: int


def measure(engine: Engine) -> Backlogs:
    """Every backlog, in one statement."""
    now = utcnow()
    pending = OutboxMessage.status == MessageStatus.PENDING
    statement = select(
        select(func.count())
        .select_from(OutboxMessage)
        .where(pending, OutboxMessage.next_attempt_at <= now)
        .scalar_subquery(),
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.DEAD)
        .scalar_subquery(),
        select(func.count()).select_from(AuditJournal).scalar_subquery(),
        select(func.count())
        .select_from(Notification)
        .where(Notification.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.RETRYING)))
        .scalar_subquery(),
    )
    with engine.connect() as connection:
        due, dead, journal, notifications = connection.execute(statement).one()
    return Backlogs(int(due), int(dead), int(journal), int(notifications))
