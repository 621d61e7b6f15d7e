"""Exchange queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from tongban.connectors.models import DepartmentSystem
from tongban.exchange.models import (
    GatewayCall,
    Grant,
    InformationResource,
    RequestStatus,
    ResourceItem,
    SharingRequest,
)


def _resources() -> Select[InformationResource]:
    return select(InformationResource).options(selectinload(InformationResource.items))


def resource_by_code(session: Session, code: str) -> InformationResource | None:
    return session.execute(
        _resources().where(InformationResource.code == code)
    ).scalar_one_or_none()


def resource_by_id(session: Session, resource_id: int) -> InformationResource | None:
    return session.execute(
        _resources().where(InformationResource.id == resource_id)
    ).scalar_one_or_none()


def search_resources(
    session: Session, *, text: str | None, department_id: int | None
) -> Sequence[InformationResource]:
    stmt = _resources()
    if department_id is not None:
        stmt = stmt.where(InformationResource.department_id == department_id)
    if text:
        pattern = f"%{text}%"
        matching_items = select(ResourceItem.resource_id).where(
            or_(ResourceItem.name_zh.like(pattern), ResourceItem.name_en.ilike(pattern))
        )
        stmt = stmt.where(
            or_(
                InformationResource.code.ilike(pattern),
                InformationResource.title_zh.like(pattern),
                InformationResource.title_en.ilike(pattern),
                InformationResource.description_zh.like(pattern),
                InformationResource.id.in_(matching_items),
            )
        )
    return session.execute(stmt.order_by(InformationResource.code)).scalars().all()


def request_by_id(session: Session, request_id: int) -> SharingRequest | None:
    return session.get(SharingRequest, request_id)


def requests_for(
    session: Session, *, provider_department_id: int | None, requester_department_id: int | None
) -> Sequence[SharingRequest]:
    stmt = select(SharingRequest)
    if provider_department_id is not None:
        provided = select(InformationResource.id).where(
            InformationResource.department_id == provider_department_id
        )
        stmt = stmt.where(SharingRequest.resource_id.in_(provided))
    if requester_department_id is not None:
        stmt = stmt.where(SharingRequest.requester_department_id == requester_department_id)
    return session.execute(stmt.order_by(SharingRequest.id.desc()).limit(500)).scalars().all()


def pending_requests(session: Session) -> Sequence[SharingRequest]:
    stmt = select(SharingRequest).where(SharingRequest.status == RequestStatus.PENDING)
    return session.execute(stmt).scalars().all()


def grant_by_id(session: Session, grant_id: int, *, for_update: bool = False) -> Grant | None:
    stmt = select(Grant).where(Grant.id == grant_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def grants_of_request(session: Session, request_id: int) -> Sequence[Grant]:
    return (
        session.execute(select(Grant).where(Grant.request_id == request_id).order_by(Grant.id))
        .scalars()
        .all()
    )


def grants_for_call(
    session: Session, system_id: int, resource_id: int, purpose: str
) -> Sequence[Grant]:
    """Every grant (live or not) of a system on a resource for a purpose, locked: the rate
    window is counted on them in this transaction."""
    stmt = (
        select(Grant)
        .where(
            Grant.system_id == system_id,
            Grant.resource_id == resource_id,
            Grant.purpose == purpose,
        )
        .order_by(Grant.id)
        .with_for_update()
    )
    return session.execute(stmt).scalars().all()


def grants_on(session: Session, resource_ids: Sequence[int]) -> Sequence[Grant]:
    if not resource_ids:
        return []
    stmt = select(Grant).where(Grant.resource_id.in_(resource_ids)).order_by(Grant.id.desc())
    return session.execute(stmt).scalars().all()


def call_counts(session: Session, grant_ids: Sequence[int]) -> dict[int, int]:
    if not grant_ids:
        return {}
    stmt = (
        select(GatewayCall.grant_id, func.count(GatewayCall.id))
        .where(GatewayCall.grant_id.in_(grant_ids), GatewayCall.outcome == "ok")
        .group_by(GatewayCall.grant_id)
    )
    return {grant_id: count for grant_id, count in session.execute(stmt) if grant_id is not None}


def calls_since(
    session: Session, since: datetime, resource_ids: Sequence[int] | None
) -> Sequence[GatewayCall]:
    stmt = select(GatewayCall).where(GatewayCall.at >= since)
    if resource_ids is not None:
        stmt = stmt.where(GatewayCall.resource_id.in_(resource_ids))
    return session.execute(stmt.order_by(GatewayCall.at)).scalars().all()


def live_grants_of_department(
    session: Session, department_id: int, resource_id: int
) -> Sequence[Grant]:
    """Unrevoked, unexpired grants on a resource held by any system of a department."""
    now = datetime.now(tz=UTC)
    stmt = (
        select(Grant)
        .join(DepartmentSystem, DepartmentSystem.id == Grant.system_id)
        .where(
            DepartmentSystem.department_id == department_id,
            DepartmentSystem.active.is_(True),
            Grant.resource_id == resource_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > now,
        )
        .order_by(Grant.id)
    )
    return session.execute(stmt).scalars().all()
