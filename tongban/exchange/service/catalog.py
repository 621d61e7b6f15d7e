"""The resource catalog: a department registers its information resources (a new version when
anything changed, audited), officials search and read them, and the catalog is exported as DCAT
(JSON-LD) and each resource's records as a Frictionless Table Schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.exchange import export, policy, repository
from tongban.exchange.errors import ResourceNotFound
from tongban.exchange.models import InformationResource, ResourceItem
from tongban.exchange.schemas import ResourceSpec
from tongban.exchange.service import _common
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.kit.i18n import LocalText
from tongban.security import deployment
from tongban.security.principals import Internal


@dataclass
class RegisterReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def register_resources(
    session: Session, subject: Principal, specs: Sequence[ResourceSpec]
) -> RegisterReport:
    """Create or update resources (a new version when anything changed), in one transaction."""
    policy.require_read_catalog(subject)
    report = RegisterReport()
    for spec in specs:
        department = catalog_service.get_department(session, subject, spec.department)
        policy.require_register(subject, department.id)
        outcome = _upsert(session, subject, spec, department.id)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _upsert(session: Session, subject: Principal, spec: ResourceSpec, department_id: int) -> str:
    system_id = None
    if spec.system is not None:
        system = connector_lookup.system_by_code(session, spec.system)
        if system is None or system.department_id != department_id:
            raise ResourceNotFound(
                "No system {system} of department {department} serves data.",
                field="system",
                system=spec.system,
                department=spec.department,
            )
        system_id = system.id
    scheme = deployment.scheme()
    items = []
    for position, item in enumerate(spec.items):
        items.append(
            {
                **item.model_dump(exclude={"source_field", "security_label"}),
                "position": position,
                "security_label": str(scheme.parse_label(item.security_label)),
                "source_field": item.source_field or item.code,
            }
        )
    values: dict[str, Any] = {
        **spec.model_dump(exclude={"department", "system", "items"}),
        "department_id": department_id,
        "system_id": system_id,
    }
    resource = repository.resource_by_code(session, spec.code)
    if resource is None:
        resource = InformationResource(**values, items=[ResourceItem(**i) for i in items])
        session.add(resource)
        session.flush()
        _audit_resource(session, subject, "exchange.resource_registered", resource)
        return "created"
    before = _snapshot(resource)
    for key, value in values.items():
        setattr(resource, key, value)
    by_code = {i.code: i for i in resource.items}
    resource.items = []
    for values_of_item in items:
        existing = by_code.get(values_of_item["code"])
        if existing is None:
            resource.items.append(ResourceItem(**values_of_item))
        else:
            for key, value in values_of_item.items():
                setattr(existing, key, value)
            resource.items.append(existing)
    session.flush()
    if _snapshot(resource) == before:
        return "unchanged"
    resource.version += 1
    resource.updated_at = utcnow()
    _audit_resource(session, subject, "exchange.resource_updated", resource)
    return "updated"


def _snapshot(resource: InformationResource) -> tuple[Any, ...]:
    columns = [c.key for c in InformationResource.__table__.columns]
    item_columns = [c.key for c in ResourceItem.__table__.columns if c.key not in ("id",)]
    return (
        tuple(getattr(resource, c) for c in columns if c not in ("version", "updated_at")),
        tuple(tuple(repr(getattr(i, c)) for c in item_columns) for i in resource.items),
    )


def search(
    session: Session,
    subject: Principal,
    *,
    text: str | None = None,
    department: str | None = None,
) -> Sequence[InformationResource]:
    policy.require_read_catalog(subject)
    department_id = (
        catalog_service.get_department(session, subject, department).id if department else None
    )
    return repository.search_resources(session, text=text, department_id=department_id)


def get_resource(session: Session, subject: Principal, code: str) -> InformationResource:
    policy.require_read_catalog(subject)
    return _common.resource(session, code)


def describe(session: Session, subject: Principal, resource: InformationResource) -> dict[str, Any]:
    """The resource as its read model wants it (department and system by code)."""
    policy.require_read_catalog(subject)
    department = catalog_service.get_department_by_id(
        session, Internal("name the department that provides a resource"), resource.department_id
    )
    system = session.get(DepartmentSystem, resource.system_id) if resource.system_id else None
    return {
        **{c.key: getattr(resource, c.key) for c in InformationResource.__table__.columns},
        "department": department.code,
        "system": system.code if system else None,
        "items": list(resource.items),
    }


def _audit_resource(
    session: Session, subject: Principal, action: str, resource: InformationResource
) -> None:
    audit.record(
        session,
        actor=subject,
        action=action,
        target_type="exchange_resource",
        target_id=resource.code,
        details={"version": resource.version, "items": [i.code for i in resource.items]},
    )


def holders(session: Session, subject: Principal) -> dict[str, LocalText]:
    """Every registered resource's code and the name of the department holding it."""
    policy.require_read_holders(subject)
    departments = {
        d.id: LocalText(d.name_zh, d.name_en)
        for d in catalog_service.list_departments(session, subject)
    }
    return {
        code: departments[department_id]
        for code, department_id in repository.resource_departments(session)
        if department_id in departments
    }


def catalog_dcat(session: Session, subject: Principal, *, base_url: str) -> dict[str, Any]:
    policy.require_read_catalog(subject)
    resources = repository.search_resources(session, text=None, department_id=None)
    departments = {
        d.id: (d.code, d.name_zh) for d in catalog_service.list_departments(session, subject)
    }
    return export.dcat(resources, departments, base_url)


def table_schema(session: Session, subject: Principal, code: str) -> dict[str, Any]:
    policy.require_read_catalog(subject)
    return export.table_schema(_common.resource(session, code))
