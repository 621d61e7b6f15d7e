"""Data-use queries: a subject's uses newest first, objections, and the names shown for them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.catalog.models import Department, MaterialRequirement, ServiceItem
from tongban.connectors.models import DepartmentSystem
from tongban.datause.models import DataUse, Objection, ObjectionStatus
from tongban.exchange.models import InformationResource, ResourceItem
from tongban.identity.models import Account, AccountKind


def page_of(
    session: Session, refs: Collection[str], *, offset: int, limit: int
) -> tuple[Sequence[DataUse], int]:
    """One page of the uses of ``refs``' data, newest first, and how many there are in all."""
    where = DataUse.subject_ref.in_(list(refs))
    total = session.execute(select(func.count(DataUse.id)).where(where)).scalar_one()
    rows = (
        session.execute(
            select(DataUse)
            .where(where)
            .order_by(DataUse.at.desc(), DataUse.id.desc())
            .offset(offset)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return rows, total


def by_ids(session: Session, ids: Collection[int]) -> dict[int, DataUse]:
    rows = session.execute(select(DataUse).where(DataUse.id.in_(list(ids)))).scalars()
    return {row.id: row for row in rows}


def objection(session: Session, objection_id: int) -> Objection | None:
    return session.get(Objection, objection_id)


def objections_of(session: Session, refs: Collection[str]) -> Sequence[Objection]:
    stmt = select(Objection).where(Objection.subject_ref.in_(list(refs)))
    return (
        session.execute(stmt.order_by(Objection.raised_at.desc(), Objection.id.desc()))
        .scalars()
        .all()
    )


def objections(
    session: Session, status: ObjectionStatus, *, limit: int | None = None
) -> Sequence[Objection]:
    """Objections in ``status``, newest first (at most ``limit``)."""
    stmt = select(Objection).where(Objection.status == status).limit(limit)
    return (
        session.execute(stmt.order_by(Objection.raised_at.desc(), Objection.id.desc()))
        .scalars()
        .all()
    )


def departments(session: Session, ids: Collection[int]) -> dict[int, Department]:
    rows = session.execute(select(Department).where(Department.id.in_(list(ids)))).scalars()
    return {row.id: row for row in rows}


def systems(session: Session, ids: Collection[int]) -> dict[int, DepartmentSystem]:
    rows = session.execute(
        select(DepartmentSystem).where(DepartmentSystem.id.in_(list(ids)))
    ).scalars()
    return {row.id: row for row in rows}


def resources(session: Session, ids: Collection[int]) -> dict[int, InformationResource]:
    rows = session.execute(
        select(InformationResource).where(InformationResource.id.in_(list(ids)))
    ).scalars()
    return {row.id: row for row in rows}


def resource_items(
    session: Session, resource_ids: Collection[int]
) -> dict[tuple[int, str], ResourceItem]:
    rows = session.execute(
        select(ResourceItem).where(ResourceItem.resource_id.in_(list(resource_ids)))
    ).scalars()
    return {(row.resource_id, row.code): row for row in rows}


def service_items(session: Session, ids: Collection[int]) -> dict[int, ServiceItem]:
    rows = session.execute(select(ServiceItem).where(ServiceItem.id.in_(list(ids)))).scalars()
    return {row.id: row for row in rows}


def material_requirements(
    session: Session, item_ids: Collection[int]
) -> dict[tuple[int, str], MaterialRequirement]:
    rows = session.execute(
        select(MaterialRequirement).where(MaterialRequirement.item_id.in_(list(item_ids)))
    ).scalars()
    return {(row.item_id, row.code): row for row in rows}


def officers(session: Session, role: str) -> list[Account]:
    """Active officials holding ``role`` (roles are a JSON list: filtered here, few rows)."""
    rows = session.execute(
        select(Account).where(Account.kind == AccountKind.OFFICIAL, Account.active.is_(True))
    ).scalars()
    return [a for a in rows if role in (a.roles or [])]
