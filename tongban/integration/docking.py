"""Docking a department system: registering it and its connectors from its system file, each
connector's subscriptions and mapping checked against the events' contracts, which their
producers own (``applications.events``, ``licences.events``, ``resources.events``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.applications import events as application_events
from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.catalog.models import ServiceItem
from tongban.connectors import contracts, outbox, policy
from tongban.connectors.errors import ConnectorFileInvalid
from tongban.connectors.models import Connector, ConnectorKind, DepartmentSystem
from tongban.connectors.schemas import ConnectorSpec, SystemSpec
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.principals import Principal
from tongban.kit import datafiles
from tongban.licences import events as licence_events
from tongban.resources import events as resource_events
from tongban.security import service as security_service
from tongban.security.principals import Internal

# Every event the platform sends to department systems, by its producer's contract.
EVENT_CONTRACTS = (
    application_events.CONTRACT,
    licence_events.CONTRACT,
    resource_events.VALUE_CHANGED_CONTRACT,
    resource_events.CONFLICT_CLOSED_CONTRACT,
)


def _check_connector(spec: ConnectorSpec, items: Sequence[ServiceItem], department: str) -> None:
    """Each subscription names events the platform sends, and each mapped field is one those
    events carry for this department."""
    for pattern in spec.events:
        if not any(outbox.subscribes([pattern], e) for e in contracts.all_events(EVENT_CONTRACTS)):
            raise ConnectorFileInvalid(
                "Connector {name} subscribes to {event}, which the platform does not send.",
                name=spec.name,
                event=pattern,
            )
    known = contracts.mappable_fields(EVENT_CONTRACTS, spec.events, items)
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
