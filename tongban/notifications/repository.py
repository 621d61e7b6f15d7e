"""Notification queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.notifications.models import Channel, DeliveryStatus, Notification


def by_id(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


def by_outbox_message(session: Session, message_id: int) -> Notification | None:
    return session.execute(
        select(Notification).where(Notification.outbox_message_id == message_id)
    ).scalar_one_or_none()


def exists(session: Session, *, event: str, reference: str, recipient_id: int) -> bool:
    stmt = select(Notification.id).where(
        Notification.event == event,
        Notification.reference == reference,
        Notification.recipient_id == recipient_id,
    )
    return session.execute(stmt.limit(1)).first() is not None


def inbox(session: Session, account_id: int, *, limit: int = 100) -> Sequence[Notification]:
    stmt = (
        select(Notification)
        .where(
            Notification.recipient_id == account_id,
            Notification.channel == Channel.IN_APP,
            Notification.status == DeliveryStatus.DELIVERED,
        )
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def unread_count(session: Session, account_id: int) -> int:
    stmt = select(func.count(Notification.id)).where(
        Notification.recipient_id == account_id,
        Notification.channel == Channel.IN_APP,
        Notification.status == DeliveryStatus.DELIVERED,
        Notification.read_at.is_(None),
    )
    return session.execute(stmt).scalar_one()


def recent(
    session: Session,
    *,
    event: str | None = None,
    status: DeliveryStatus | None = None,
    batch: str | None = None,
    reference: str | None = None,
    limit: int = 100,
) -> Sequence[Notification]:
    stmt = select(Notification)
    if event:
        stmt = stmt.where(Notification.event == event)
    if status:
        stmt = stmt.where(Notification.status == status)
    if batch:
        stmt = stmt.where(Notification.batch == batch)
    if reference:
        stmt = stmt.where(Notification.reference == reference)
    return session.execute(stmt.order_by(Notification.id.desc()).limit(limit)).scalars().all()


def counts(session: Session) -> list[tuple[str, Channel, DeliveryStatus, int]]:
    stmt = (
        select(Notification.event, Notification.channel, Notification.status, func.count())
        .group_by(Notification.event, Notification.channel, Notification.status)
        .order_by(Notification.event, Notification.channel, Notification.status)
    )
    return [(e, c, s, n) for e, c, s, n in session.execute(stmt)]
