"""Delivering the outbox: at least once, with exponential backoff, in order per record.

A dispatcher claims due messages under a lease (a token and an expiry), delivers them outside any
database transaction, then settles each one only if it still holds the lease. If it dies at any
point, the lease runs out and another dispatcher (or itself, restarted) delivers again: messages
may arrive twice, never zero times, and the idempotency key lets the receiver drop the repeat.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from tongban.config import get_settings
from tongban.connectors.kinds import DeliveryError, Outgoing, Target, Transport, mapped_body
from tongban.connectors.kinds.api import ApiTransport
from tongban.connectors.kinds.database import DatabaseTransport
from tongban.connectors.kinds.file import FileTransport
from tongban.connectors.models import (
    Connector,
    ConnectorKind,
    DepartmentSystem,
    MessageStatus,
    OutboxMessage,
)
from tongban.db.session import unit_of_work
from tongban.kit.clock import utcnow

log = logging.getLogger(__name__)


def default_transports() -> dict[ConnectorKind, Transport]:
    return {
        ConnectorKind.API: ApiTransport(),
        ConnectorKind.FILE: FileTransport(),
        ConnectorKind.DATABASE: DatabaseTransport(),
    }


def default_targets() -> dict[str, Target]:
    """Platform delivery targets by name. Imported here, not at the top: the notifications
    domain publishes into this outbox, so it must not be needed to load the connectors."""
    from tongban.notifications.delivery import TARGET, NotifyTarget

    return {TARGET: NotifyTarget.from_settings()}


@dataclass
class DispatchReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Exponential from the base delay, capped, with jitter so retries do not arrive in waves."""
    settings = get_settings()
    delay = min(
        settings.outbox_base_delay_seconds * 2 ** (attempts - 1), settings.outbox_max_delay_seconds
    )
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def claim(
    session: Session, *, limit: int, systems: list[int] | None = None, targets_only: bool = False
) -> tuple[str, list[OutboxMessage]]:
    """Lease up to ``limit`` due messages; an earlier pending message of the same record for the
    same connector holds later ones back, so a department sees a record's events in order.

    ``systems``: only those department systems' messages; ``targets_only``: only messages for
    platform targets (notifications), so they can have dispatchers of their own."""
    now = utcnow()
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.connector_id == OutboxMessage.connector_id,
        earlier.aggregate_id == OutboxMessage.aggregate_id,
        earlier.status == MessageStatus.PENDING,
        earlier.id < OutboxMessage.id,
    )
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == MessageStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until < now),
            ~blocked,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        # Several dispatchers on PostgreSQL take disjoint batches instead of waiting.
        .with_for_update(skip_locked=True)
    )
    if systems is not None:
        # A dispatcher may serve only some systems, so a slow department cannot delay others.
        due = due.where(
            OutboxMessage.connector_id.in_(
                select(Connector.id).where(Connector.system_id.in_(systems))
            )
        )
    if targets_only:
        due = due.where(OutboxMessage.target.is_not(None))
    ids = list(session.execute(due).scalars())
    token = secrets.token_hex(16)
    if ids:
        lease = timedelta(seconds=get_settings().outbox_lease_seconds)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(leased_until=now + lease, lease_token=token)
        )
    messages = list(
        session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).scalars()
    )
    return token, messages


def _settle(
    session: Session,
    token: str,
    message_id: int,
    error: DeliveryError | None,
    report: DispatchReport,
    targets: dict[str, Target],
) -> None:
    message = session.execute(
        select(OutboxMessage)
        .where(and_(OutboxMessage.id == message_id, OutboxMessage.lease_token == token))
        .with_for_update()
    ).scalar_one_or_none()
    if message is None or message.status is not MessageStatus.PENDING:
        return  # the lease ran out and someone else owns the message now
    connector = session.get(Connector, message.connector_id) if message.connector_id else None
    now = utcnow()
    message.attempts += 1
    message.leased_until = None
    message.lease_token = None
    if error is None:
        message.status = MessageStatus.DELIVERED
        message.delivered_at = now
        message.last_error = ""
        if connector is not None:
            connector.last_success_at = now
        report.delivered += 1
    else:
        message.last_error = str(error)[:2000]
        if connector is not None:
            connector.last_failure_at = now
            connector.last_error = message.last_error
        if error.permanent or message.attempts >= get_settings().outbox_max_attempts:
            message.status = MessageStatus.DEAD
            report.dead += 1
        else:
            message.next_attempt_at = now + backoff(message.attempts)
            report.retried += 1
        report.errors.append(f"message {message.id}: {error}")
    if message.target is not None and message.target in targets:
        targets[message.target].settled(session, message, error)


def dispatch_once(
    engine: Engine,
    *,
    limit: int = 100,
    systems: list[int] | None = None,
    transports: dict[ConnectorKind, Transport] | None = None,
    targets: dict[str, Target] | None = None,
    targets_only: bool = False,
) -> DispatchReport:
    transports = transports or default_transports()
    targets = default_targets() if targets is None else targets
    report = DispatchReport()
    with unit_of_work(engine) as session:
        token, messages = claim(session, limit=limit, systems=systems, targets_only=targets_only)
        report.claimed = len(messages)
        batches: dict[int, list[OutboxMessage]] = defaultdict(list)
        for_targets: dict[str, list[OutboxMessage]] = defaultdict(list)
        for message in messages:
            if message.connector_id is not None:
                batches[message.connector_id].append(message)
            else:
                assert message.target is not None  # the table's check constraint
                for_targets[message.target].append(message)
        work = []
        for connector_id, batch in batches.items():
            connector = session.get(Connector, connector_id)
            assert connector is not None
            system = session.get(DepartmentSystem, connector.system_id)
            assert system is not None
            work.append(
                (system, connector, [Outgoing(m, mapped_body(connector, m)) for m in batch])
            )
    # Deliver with no transaction open: a slow department must not hold database locks.
    outcomes: dict[int, DeliveryError | None] = {}
    for system, connector, outgoing in work:
        try:
            outcomes.update(transports[connector.kind].deliver(system, connector, outgoing))
        except Exception as exc:  # a bug in a transport must not stop the other connectors
            log.exception("transport %s failed", connector.kind)
            failure = DeliveryError(f"{type(exc).__name__}: {exc}")
            outcomes.update({o.message.id: failure for o in outgoing})
    for name, batch in for_targets.items():
        target = targets.get(name)
        if target is None:
            # Another dispatcher may know it; this one leaves the lease to run out.
            continue
        try:
            outcomes.update(target.deliver(batch))
        except Exception as exc:
            log.exception("delivery target %s failed", name)
            failure = DeliveryError(f"{type(exc).__name__}: {exc}")
            outcomes.update({m.id: failure for m in batch})
    for message_id, outcome in outcomes.items():
        with unit_of_work(engine) as session:
            _settle(session, token, message_id, outcome, report, targets)
    return report


def run(
    engine: Engine,
    *,
    stop: threading.Event,
    interval: float = 1.0,
    limit: int = 100,
    systems: list[int] | None = None,
    transports: dict[ConnectorKind, Transport] | None = None,
    targets: dict[str, Target] | None = None,
    targets_only: bool = False,
) -> None:
    """Deliver until ``stop`` is set; when a round found work, go again without waiting, and
    when idle, read the batches departments left in their file connectors' inboxes."""
    from tongban.connectors import inbox  # reads back; only the long-running loop needs it

    transports = transports or default_transports()
    targets = default_targets() if targets is None else targets
    while not stop.is_set():
        try:
            report = dispatch_once(
                engine,
                limit=limit,
                systems=systems,
                transports=transports,
                targets=targets,
                targets_only=targets_only,
            )
        except Exception:
            log.exception("dispatch round failed; trying again")
            report = DispatchReport()
        if report.claimed == 0:
            try:
                # Department inboxes are the department dispatchers' business.
                if not targets_only:
                    inbox.import_inboxes(engine)
            except Exception:
                log.exception("reading department inboxes failed; trying again")
            stop.wait(interval)
