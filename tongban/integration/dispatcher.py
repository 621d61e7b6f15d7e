"""Delivering the outbox to department systems: at least once, with exponential backoff, in
order per record.

The lease, retry and dead-letter mechanism is ``db.delivery`` (shared with federation): a
dispatcher claims due messages under a lease, delivers them outside any database transaction,
then settles each one only if it still holds the lease. Messages may arrive twice, never zero
times, and the idempotency key lets the receiver drop the repeat.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tongban.audit import checkpoints, journal
from tongban.connectors.kinds import DeliveryError, Outgoing, Target, Transport, mapped_body
from tongban.connectors.kinds.api import ApiTransport
from tongban.connectors.kinds.database import DatabaseTransport
from tongban.connectors.kinds.file import FileTransport
from tongban.connectors.models import Connector, ConnectorKind, DepartmentSystem, OutboxMessage
from tongban.db import delivery
from tongban.db.delivery import Settled, backoff
from tongban.db.session import sessions_for, unit_of_work
from tongban.integration import inbox
from tongban.kit.clock import utcnow
from tongban.notifications.delivery import TARGET, NotifyTarget

log = logging.getLogger(__name__)

__all__ = ["backoff", "claim", "dispatch_once", "run"]


def default_transports() -> dict[ConnectorKind, Transport]:
    return {
        ConnectorKind.API: ApiTransport(),
        ConnectorKind.FILE: FileTransport(),
        ConnectorKind.DATABASE: DatabaseTransport(),
    }


def default_targets() -> dict[str, Target]:
    """Platform delivery targets by name."""
    return {TARGET: NotifyTarget.from_settings()}


@dataclass
class DispatchReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def claim(
    session: Session,
    *,
    limit: int,
    systems: list[int] | None = None,
    targets_only: bool = False,
    connectors_only: bool = False,
) -> tuple[str, list[OutboxMessage]]:
    """Lease up to ``limit`` due messages; an earlier pending message of the same record for the
    same connector holds later ones back, so a department sees a record's events in order.

    ``systems``: only those department systems' messages; ``targets_only``: only messages for
    platform targets (notifications), so they can have dispatchers of their own;
    ``connectors_only``: only department systems' messages (the notifications' own do the rest)."""
    where = []
    if targets_only:
        where.append(OutboxMessage.target.is_not(None))
    if connectors_only:
        where.append(OutboxMessage.target.is_(None))
    if systems is not None:
        # A dispatcher may serve only some systems, so a slow department cannot delay others.
        where.append(
            OutboxMessage.connector_id.in_(
                select(Connector.id).where(Connector.system_id.in_(systems))
            )
        )
    return delivery.claim(
        session,
        OutboxMessage,
        limit=limit,
        in_order_by=("connector_id", "aggregate_id"),
        where=where,
    )


def _settle(
    session: Session,
    token: str,
    message_id: int,
    error: DeliveryError | None,
    report: DispatchReport,
    targets: dict[str, Target],
) -> None:
    settled = delivery.settle(
        session,
        OutboxMessage,
        token=token,
        row_id=message_id,
        error=None if error is None else str(error),
        permanent=error is not None and error.permanent,
    )
    if settled is None:
        return  # the lease ran out and someone else owns the message now
    message, outcome = settled
    if message.target is not None and message.target in targets:
        # The target keeps its own delivery status (e.g. a notification's) in step.
        targets[message.target].settled(session, message, error)
    connector = session.get(Connector, message.connector_id) if message.connector_id else None
    if outcome is Settled.DELIVERED:
        if connector is not None:
            connector.last_success_at = message.delivered_at
        report.delivered += 1
        return
    if connector is not None:
        connector.last_failure_at = utcnow()
        connector.last_error = message.last_error
    if outcome is Settled.DEAD:
        report.dead += 1
    else:
        report.retried += 1
    report.errors.append(f"message {message.id}: {error}")


def dispatch_once(
    engine: Engine,
    *,
    limit: int = 100,
    systems: list[int] | None = None,
    transports: dict[ConnectorKind, Transport] | None = None,
    targets: dict[str, Target] | None = None,
    targets_only: bool = False,
    connectors_only: bool = False,
) -> DispatchReport:
    transports = transports or default_transports()
    targets = default_targets() if targets is None else targets
    report = DispatchReport()
    with unit_of_work(engine) as session:
        token, messages = claim(
            session,
            limit=limit,
            systems=systems,
            targets_only=targets_only,
            connectors_only=connectors_only,
        )
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
    transports = transports or default_transports()
    targets = default_targets() if targets is None else targets
    while not stop.is_set():
        # The audit journal: entries reach the chain here when no web process sequences them
        # (or it stopped before it did).
        journal.sequence_pending(sessions_for(engine))
        # The chain's periodic signed checkpoint, when one is due.
        checkpoints.sign_periodically(sessions_for(engine))
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
