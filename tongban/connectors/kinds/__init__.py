"""Delivery by connector kind: a small Protocol and a registry, one module per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage


class DeliveryError(Exception):
    """Delivery failed. ``permanent`` failures (e.g. the department refused the content) are not
    retried: retrying cannot help, and an administrator must look."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    message: OutboxMessage
    body: dict[str, Any]


class Transport(Protocol):
    def deliver(
        self, system: DepartmentSystem, connector: Connector, batch: list[Outgoing]
    ) -> dict[int, DeliveryError | None]:
        """Deliver a batch for one connector; the outcome per message id (None = delivered)."""


class Target(Protocol):
    """A platform delivery target (not a department's connector), e.g. the notification
    senders: messages whose ``target`` names it are delivered by it."""

    def deliver(self, batch: list[OutboxMessage]) -> dict[int, DeliveryError | None]:
        """Deliver the messages (outside any transaction); the outcome per message id."""

    def settled(
        self, session: Session, message: OutboxMessage, error: DeliveryError | None
    ) -> None:
        """Called in the transaction that records the attempt's outcome on ``message``
        (delivered, to be retried, or dead), to keep the target's own records in step."""


def mapped_body(connector: Connector, message: OutboxMessage) -> dict[str, Any]:
    """The envelope plus the payload's fields renamed by the connector's mapping.

    Mapping keys are dotted paths into the payload (``form.operator_name``, ``applicant.name``);
    a path missing from this payload (another item's field) is simply left out.
    """
    data: dict[str, Any] = {}
    for source, target in connector.mapping.items():
        value: Any = message.payload
        for part in source.split("."):
            value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                break
        if value is not None:
            data[target] = value
    return {
        "event": message.event_type,
        "id": message.aggregate_id,
        "idempotency_key": message.idempotency_key,
        "data": data,
    }
