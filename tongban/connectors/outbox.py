"""Publishing events into the transactional outbox.

``publish`` is called by a domain service inside its own transaction: the event is stored if and
only if the change it reports commits, so no event is lost and none is sent for a rolled-back
change. Delivery happens later (``dispatcher``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage
from tongban.db import versions
from tongban.identity.models import Account
from tongban.kit import request_ids
from tongban.kit.clock import utcnow
from tongban.security import access, deployment
from tongban.security.labels import Clearance

# The part of a payload that depends on what the receiving system is cleared for.
Disclose = Callable[[Clearance], Mapping[str, Any]]


def subscribes(patterns: Sequence[str], event_type: str) -> bool:
    return any(
        event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


def publish(
    session: Session,
    *,
    event_type: str,
    department_id: int,
    aggregate_id: str,
    payload: Mapping[str, Any],
    disclose: Disclose | None = None,
) -> list[OutboxMessage]:
    """Queue ``payload`` for every active connector of the department that wants this event.

    Labelled data goes in ``disclose``: called with each receiving system's clearance, it gives
    the values that system may receive (masked by mandatory access control), merged into its
    copy of the payload, so a system never receives, nor has queued for it, more than it is
    cleared for."""
    now = utcnow()
    disclosed: dict[int, dict[str, Any]] = {}
    messages = []
    for connector in _subscribers.get(session).get(department_id, ()):
        if not subscribes(connector.events, event_type):
            continue
        body = dict(payload)
        if disclose is not None:
            if connector.system_id not in disclosed:
                clearance = _clearance_of(session, connector.system_account_id)
                disclosed[connector.system_id] = {**payload, **disclose(clearance)}
            body = disclosed[connector.system_id]
        messages.append(
            OutboxMessage(
                connector_id=connector.id,
                event_type=event_type,
                aggregate_id=aggregate_id,
                payload=body,
                idempotency_key=uuid.uuid4().hex,
                created_at=now,
                next_attempt_at=now,
                request_id=request_ids.current(),
            )
        )
    session.add_all(messages)
    return messages


def system_clearance(session: Session, system: DepartmentSystem) -> Clearance:
    """A department system is a subject like an official: its account's clearance, set by a
    security administrator (or its system file, by the operator); the default otherwise."""
    return _clearance_of(session, system.account_id)


def _clearance_of(session: Session, account_id: int | None) -> Clearance:
    account = session.get(Account, account_id) if account_id else None
    if account is None:
        return deployment.default_clearance()
    return access.clearance_for(session, account)


@dataclass(frozen=True)
class _Subscriber:
    """What publishing needs of an active connector of an active system."""

    id: int
    events: tuple[str, ...]
    system_id: int
    system_account_id: int | None


def _load_subscribers(session: Session) -> dict[int, tuple[_Subscriber, ...]]:
    rows = session.execute(
        select(Connector, DepartmentSystem)
        .join(DepartmentSystem, Connector.system_id == DepartmentSystem.id)
        .where(DepartmentSystem.active.is_(True), Connector.active.is_(True))
        .order_by(Connector.id)
    ).all()
    by_department: dict[int, list[_Subscriber]] = {}
    for connector, system in rows:
        by_department.setdefault(system.department_id, []).append(
            _Subscriber(connector.id, tuple(connector.events), system.id, system.account_id)
        )
    return {department: tuple(found) for department, found in by_department.items()}


# Every write that tells departments reads who listens: kept in memory, by a version every
# change of a connector or system raises (so another process sees it on its next request).
_subscribers = versions.Cached("connectors", _load_subscribers)
versions.watch(
    "connectors",
    {
        Connector: ("system_id", "events", "active"),
        DepartmentSystem: ("department_id", "account_id", "active"),
    },
)


def publish_to_target(
    session: Session,
    *,
    target: str,
    event_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    """Queue ``payload`` for a platform delivery target (``dispatcher.default_targets``)."""
    now = utcnow()
    message = OutboxMessage(
        target=target,
        event_type=event_type,
        aggregate_id=aggregate_id,
        payload=payload,
        idempotency_key=uuid.uuid4().hex,
        created_at=now,
        next_attempt_at=now,
        request_id=request_ids.current(),
    )
    session.add(message)
    return message
