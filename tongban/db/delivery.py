"""Leased, retried delivery of outbox rows: the mechanism every outbox shares.

An outbox table mixes in ``LeasedDelivery``. A worker ``claim``s due rows under a lease (a token
and an expiry), delivers them outside any database transaction, then ``settle``s each one only if
it still holds the lease. If it dies at any point, the lease runs out and another worker (or
itself, restarted) delivers again: a row may be delivered twice, never zero times, so receivers
drop repeats by the row's idempotency key. Department connectors (``integration.dispatcher``) and
federation peers (``federation.delivery``) both deliver this way.
"""

from __future__ import annotations

import enum
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Enum, String, Text, and_, exists, or_, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from tongban.config import get_settings
from tongban.kit.clock import utcnow


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def status_enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class LeasedDelivery:
    """The columns a delivery worker needs on an outbox row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[MessageStatus] = mapped_column(
        status_enum(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    # A worker leases a row while delivering it; a crashed one's lease simply expires.
    leased_until: Mapped[datetime | None]
    # Names the claim: only the worker holding the current lease may settle the row.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


M = TypeVar("M", bound=LeasedDelivery)


class Settled(enum.StrEnum):
    DELIVERED = "delivered"
    RETRIED = "retried"
    DEAD = "dead"


def backoff(attempts: int) -> timedelta:
    """Exponential from the base delay, capped, with jitter so retries do not arrive in waves."""
    settings = get_settings()
    delay = min(
        settings.outbox_base_delay_seconds * 2 ** (attempts - 1), settings.outbox_max_delay_seconds
    )
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def claim(
    session: Session,
    model: type[M],
    *,
    limit: int,
    in_order_by: Sequence[str],
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[str, list[M]]:
    """Lease up to ``limit`` due rows. Rows agreeing on every column named in ``in_order_by``
    (e.g. one connector and one application) go out in id order: an earlier pending one holds
    later ones back."""
    now = utcnow()
    earlier = aliased(model)
    same = [getattr(earlier, name) == getattr(model, name) for name in in_order_by]
    blocked = exists().where(*same, earlier.status == MessageStatus.PENDING, earlier.id < model.id)
    due = (
        select(model.id)
        .where(
            model.status == MessageStatus.PENDING,
            model.next_attempt_at <= now,
            or_(model.leased_until.is_(None), model.leased_until < now),
            ~blocked,
            *where,
        )
        .order_by(model.id)
        .limit(limit)
        # Several workers on PostgreSQL take disjoint batches instead of waiting.
        .with_for_update(skip_locked=True)
    )
    ids = list(session.execute(due).scalars())
    token = secrets.token_hex(16)
    if ids:
        lease = timedelta(seconds=get_settings().outbox_lease_seconds)
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(leased_until=now + lease, lease_token=token)
        )
    rows = list(session.execute(select(model).where(model.id.in_(ids))).scalars())
    return token, rows


def settle(
    session: Session,
    model: type[M],
    *,
    token: str,
    row_id: int,
    error: str | None,
    permanent: bool = False,
) -> tuple[M, Settled] | None:
    """Record one delivery attempt; None if the lease ran out and someone else owns the row."""
    row = session.execute(
        select(model).where(and_(model.id == row_id, model.lease_token == token)).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.status is not MessageStatus.PENDING:
        return None
    now = utcnow()
    row.attempts += 1
    row.leased_until = None
    row.lease_token = None
    if error is None:
        row.status = MessageStatus.DELIVERED
        row.delivered_at = now
        row.last_error = ""
        return row, Settled.DELIVERED
    row.last_error = error[:2000]
    if permanent or row.attempts >= get_settings().outbox_max_attempts:
        row.status = MessageStatus.DEAD
        return row, Settled.DEAD
    row.next_attempt_at = now + backoff(row.attempts)
    return row, Settled.RETRIED


def revive(row: LeasedDelivery) -> None:
    """Send a dead row again, from a fresh retry budget (an operator's decision)."""
    row.status = MessageStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
