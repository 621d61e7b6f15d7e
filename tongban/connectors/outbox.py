"""Publishing events into the transactional outbox.

``publish`` is called by a domain service inside its own transaction: the event is stored if and
only if the change it reports commits, so no event is lost and none is sent for a rolled-back
change. Delivery happens later (``dispatcher``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage
from tongban.identity.models import Account
from tongban.kit import request_ids
from tongban.kit.clock import utcnow
from tongban.security import access, deployment
from tongban.security.labels import Clearance

# The part of a payload that depends on what the receiving system is cleared for.
Disclose = Callable[[Clearance], Mapping[str, Any]]


def subscribes(patterns: list[str], event_type: str) -> bool:
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
    rows = session.execute(
        select(Connector, DepartmentSystem)
        .join(DepartmentSystem, Connector.system_id == DepartmentSystem.id)
        .where(
            DepartmentSystem.department_id == department_id,
            DepartmentSystem.active.is_(True),
            Connector.active.is_(True),
        )
        .order_by(Connector.id)
    ).all()
    now = utcnow()
    disclosed: dict[int, dict[str, Any]] = {}
    messages = []
    for connector, system in rows:
        if not subscribes(connector.events, event_type):
            continue
        body = dict(payload)
        if disclose is not None:
            if system.id not in disclosed:
                disclosed[system.id] = {**payload, **disclose(system_clearance(session, system))}
            body = disclosed[system.id]
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
    account = session.get(Account, system.account_id) if system.account_id else None
    if account is None:
        return deployment.default_clearance()
    return access.clearance_for(session, account)


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
