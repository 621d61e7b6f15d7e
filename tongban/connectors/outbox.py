"""Publishing events into the transactional outbox.

``publish`` is called by a domain service inside its own transaction: the event is stored if and
only if the change it reports commits, so no event is lost and none is sent for a rolled-back
change. Delivery happens later (``dispatcher``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage
from tongban.kit.clock import utcnow


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
    payload: dict[str, Any],
) -> list[OutboxMessage]:
    """Queue ``payload`` for every active connector of the department that wants this event."""
    connectors = session.execute(
        select(Connector)
        .join(DepartmentSystem, Connector.system_id == DepartmentSystem.id)
        .where(
            DepartmentSystem.department_id == department_id,
            DepartmentSystem.active.is_(True),
            Connector.active.is_(True),
        )
        .order_by(Connector.id)
    ).scalars()
    now = utcnow()
    messages = [
        OutboxMessage(
            connector_id=connector.id,
            event_type=event_type,
            aggregate_id=aggregate_id,
            payload=payload,
            idempotency_key=uuid.uuid4().hex,
            created_at=now,
            next_attempt_at=now,
        )
        for connector in connectors
        if subscribes(connector.events, event_type)
    ]
    session.add_all(messages)
    return messages


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
    )
    session.add(message)
    return message
