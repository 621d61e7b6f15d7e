"""The connectors domain's public API: register systems, watch health, handle dead letters."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.models import ServiceItem
from tongban.connectors import events, outbox, policy
from tongban.connectors.errors import ConnectorFileInvalid, MessageNotFound, SystemNotFound
from tongban.connectors.models import (
    Connector,
    ConnectorKind,
    DepartmentSystem,
    InboundCallback,
    MessageStatus,
    OutboxMessage,
)
from tongban.connectors.schemas import CallbackBody, ConnectorSpec, SystemSpec
from tongban.db import delivery
from tongban.errors import InvalidInput
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal
from tongban.kit import datafiles
from tongban.kit.clock import utcnow
from tongban.security import service as security_service
from tongban.security.principals import Internal


def _check_connector(spec: ConnectorSpec, items: Sequence[ServiceItem], department: str) -> None:
    """Each subscription names events the platform sends, and each mapped field is one those
    events carry for this department."""
    for pattern in spec.events:
        if not any(outbox.subscribes([pattern], e) for e in events.ALL_EVENTS):
            raise ConnectorFileInvalid(
                "Connector {name} subscribes to {event}, which the platform does not send.",
                name=spec.name,
                event=pattern,
            )
    known = events.mappable_fields(spec.events, items)
    unknown = sorted(set(spec.mapping) - known)
    if unknown:
        raise ConnectorFileInvalid(
            "Connector {name} maps {source}, which the events it receives from {department} "
            "do not carry.",
            name=spec.name,
            source=unknown[0],
            department=department,
        )


def read_system_file(path: Path) -> SystemSpec:
    spec: SystemSpec = datafiles.load_yaml(path, SystemSpec, ConnectorFileInvalid)
    return spec


def register_system(session: Session, subject: Principal, spec: SystemSpec) -> DepartmentSystem:
    """Create or update a department system and its connectors from a validated spec."""
    policy.require_manage_connectors(subject)
    department = catalog_service.get_department(session, subject, spec.department)
    items = catalog_service.search(session, subject, department=spec.department)
    for connector_spec in spec.connectors:
        _check_connector(connector_spec, items, spec.department)
    system = session.execute(
        select(DepartmentSystem).where(DepartmentSystem.code == spec.code)
    ).scalar_one_or_none()
    if system is None:
        system = DepartmentSystem(
            code=spec.code, name=spec.name, department_id=department.id, secret=spec.secret
        )
        session.add(system)
        session.flush()
    else:
        system.name, system.department_id, system.secret = spec.name, department.id, spec.secret
        system.active = True
    system.lookup = spec.lookup.model_dump(mode="json") if spec.lookup else None
    if system.account_id is None:
        system.account_id = _system_account(session, spec, department.id).id
    else:
        account = session.get(Account, system.account_id)
        if account is not None:  # a system moved to another department acts for that one
            account.department_id, account.display_name = department.id, spec.name
    if spec.clearance is not None:
        account = session.get(Account, system.account_id)
        assert account is not None
        security_service.set_clearance(
            session, subject, username=account.username, clearance=spec.clearance
        )
    existing = {
        c.name: c
        for c in session.execute(
            select(Connector).where(Connector.system_id == system.id)
        ).scalars()
    }
    for cspec in spec.connectors:
        connector = existing.pop(cspec.name, None)
        values: dict[str, Any] = {
            "kind": ConnectorKind(cspec.kind),
            "config": cspec.config,
            "mapping": cspec.mapping,
            "events": cspec.events,
            "active": True,
        }
        if connector is None:
            session.add(Connector(system_id=system.id, name=cspec.name, **values))
        else:
            for key, value in values.items():
                setattr(connector, key, value)
    for stale in existing.values():
        stale.active = False  # kept, not deleted: its messages stay explainable
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="connectors.system_registered",
        target_type="department_system",
        target_id=system.code,
        details={"connectors": [c.name for c in spec.connectors]},
    )
    return system


SYSTEM_ROLES = ["clerk", "reviewer", "approver"]


def _system_account(session: Session, spec: SystemSpec, department_id: int) -> Account:
    """The official account a system acts as; its password is random and never shown."""
    account = identity_service.create_account(
        session,
        Internal("the account a department system acts as"),
        username=f"system.{spec.code.lower()}"[:64],
        password=secrets.token_urlsafe(32),
        display_name=spec.name,
        kind=AccountKind.OFFICIAL,
        department_id=department_id,
    )
    account.roles = list(SYSTEM_ROLES)
    return account


def handle_callback(
    session: Session, subject: DepartmentSystem, *, idempotency_key: str, body: CallbackBody
) -> dict[str, Any]:
    """Apply a department system's report once; a repeat (same key) gets the first answer."""
    policy.require_report_back(subject)
    if not 8 <= len(idempotency_key) <= 64:
        raise InvalidInput(
            "Send an idempotency key of 8 to 64 characters.", field="idempotency_key"
        )
    earlier = session.execute(
        select(InboundCallback).where(
            InboundCallback.system_id == subject.id,
            InboundCallback.idempotency_key == idempotency_key,
        )
    ).scalar_one_or_none()
    if earlier is not None:
        return {**earlier.response, "duplicate": True}
    actor = session.get(Account, subject.account_id)
    assert actor is not None
    application = applications_service.act(
        session,
        actor,
        body.application,
        Action(body.action),
        reason=body.reason,
        result_note=body.result_note,
    )
    response = {"application": application.number, "status": application.status.value}
    session.add(
        InboundCallback(
            system_id=subject.id,
            idempotency_key=idempotency_key,
            received_at=utcnow(),
            payload=body.model_dump(),
            response=response,
        )
    )
    session.flush()
    return {**response, "duplicate": False}


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
