"""Exchange queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, insert, or_, select, update
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
from tongban.identity.models import Account
from tongban.security import repository as security_repository


def _resources() -> Select[InformationResource]:
    return select(InformationResource).options(selectinload(InformationResource.items))


def resource_by_code(session: Session, code: str) -> InformationResource | None:
    return session.execute(
        _resources().where(InformationResource.code == code)
    ).scalar_one_or_none()


def resource_departments(session: Session) -> list[tuple[str, int]]:
    """(code, department id) of every registered resource."""
    rows = session.execute(
        select(InformationResource.code, InformationResource.department_id).order_by(
            InformationResource.code
        )
    )
    return [(str(code), int(department)) for code, department in rows.tuples()]


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
    """Every grant (live or not) of a system on a resource for a purpose: why a call found no
    live one (``count_call`` counts calls on the live ones)."""
    stmt = (
        select(Grant)
        .where(
            Grant.system_id == system_id,
            Grant.resource_id == resource_id,
            Grant.purpose == purpose,
        )
        .order_by(Grant.id)
    )
    return session.execute(stmt).scalars().all()


# The calls a minute are counted in fixed one-minute windows: a window that began a minute ago
# or more starts again with this call.
_NOW = bindparam("now", type_=Grant.expires_at.type)
_NEW_WINDOW = or_(
    Grant.window_start.is_(None),
    Grant.window_start <= bindparam("minute_ago", type_=Grant.expires_at.type),
)
_COUNT_CALL = (
    update(Grant)
    .where(
        Grant.system_id == bindparam("caller"),
        Grant.purpose == bindparam("for_purpose"),
        Grant.resource_id
        == select(InformationResource.id)
        .where(InformationResource.code == bindparam("resource_code"))
        .scalar_subquery(),
        Grant.revoked_at.is_(None),
        Grant.expires_at > _NOW,
    )
    .values(
        window_start=case((_NEW_WINDOW, _NOW), else_=Grant.window_start),
        window_calls=case((_NEW_WINDOW, 1), else_=Grant.window_calls + 1),
    )
    .returning(
        Grant.id,
        Grant.items,
        Grant.resource_id,
        Grant.window_calls,
        Grant.rate_per_minute,
        select(InformationResource.version)
        .where(InformationResource.id == Grant.resource_id)
        .scalar_subquery()
        .label("resource_version"),
        security_repository.clearance_text(bindparam("caller_account")).label("clearance"),
        # The call's audit entry names the account and the "who used my data" rows the
        # purpose as the sharing request stated it: read here, not by statements of their own.
        select(Account.username)
        .where(Account.id == bindparam("caller_account"))
        .scalar_subquery()
        .label("username"),
        select(SharingRequest.purpose_text)
        .where(SharingRequest.id == Grant.request_id)
        .scalar_subquery()
        .label("purpose_text"),
    )
)


def count_call(
    session: Session,
    *,
    system_id: int,
    resource: str,
    purpose: str,
    account_id: int,
    now: datetime,
) -> list[Row[Any]]:
    """Count a call on every live grant of the system on the resource (by code) for the
    purpose, and return those grants with the resource's version and the account's clearance:
    the gateway's whole check in one statement. No rows: no live grant (or no such resource)."""
    rows = session.connection().execute(
        _COUNT_CALL,
        {
            "caller": system_id,
            "for_purpose": purpose,
            "resource_code": resource,
            "caller_account": account_id,
            "now": now,
            "minute_ago": now - timedelta(minutes=1),
        },
    )
    return sorted(rows, key=lambda row: row.id)


def log_call(session: Session, call: dict[str, Any]) -> int:
    """Log one call (a plain insert: it is on every call); its id."""
    return int(
        session.connection()
        .execute(insert(GatewayCall).values(call).returning(GatewayCall.id))
        .scalar_one()
    )


def username(session: Session, account_id: int | None) -> str:
    if account_id is None:
        return ""
    found = session.execute(select(Account.username).where(Account.id == account_id))
    return found.scalar_one_or_none() or ""


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
