"""Sharing requests and grants: a department asks for named items of a resource for one of its
systems and a stated purpose; unconditional items are granted at once, conditional ones wait for
the providing department's approver (who may approve fewer or refuse with a reason), items not
shared cannot be asked for. Grants expire after the days asked for and can be revoked; every
step is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors import lookup as connector_lookup
from tongban.connectors.models import DepartmentSystem
from tongban.exchange import policy, repository
from tongban.exchange.errors import (
    BadBatch,
    GrantNotFound,
    ItemNotShared,
    PurposeNotAllowed,
    RequestNotFound,
    RequestNotPending,
    ResourceNotFound,
    UnknownItem,
)
from tongban.exchange.models import (
    Grant,
    InformationResource,
    RequestStatus,
    ResourceItem,
    Sharing,
    SharingRequest,
)
from tongban.exchange.schemas import SharingRequestIn
from tongban.exchange.service import _common
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

DEFAULT_RATE_PER_MINUTE = 600


def request_sharing(session: Session, subject: Principal, body: SharingRequestIn) -> SharingRequest:
    """Ask for items of a resource. Unconditional items are granted at once; conditional
    ones wait for the provider's approver; an item not shared cannot be asked for."""
    system = connector_lookup.system_by_code(session, body.system)
    if system is None:
        raise ResourceNotFound(
            "No department system has the code {code}.", field="system", code=body.system
        )
    requester = policy.require_request(subject, system)
    resource = _common.resource(session, body.resource)
    items = _items(resource, body.items)
    for item in items:
        if item.sharing is Sharing.NOT_SHARED:
            raise ItemNotShared(
                "The item {item} is not shared ({basis}).",
                field="items",
                item=item.code,
                basis=item.legal_basis,
            )
        if item.sharing is Sharing.CONDITIONAL and body.purpose not in item.purposes:
            raise PurposeNotAllowed(
                "The item {item} is shared only for: {purposes}.",
                field="purpose",
                item=item.code,
                purposes=", ".join(item.purposes),
            )
    now = utcnow()
    at_once = [i.code for i in items if i.sharing is Sharing.UNCONDITIONAL]
    waiting = [i.code for i in items if i.sharing is Sharing.CONDITIONAL]
    request = SharingRequest(
        resource_id=resource.id,
        requester_department_id=system.department_id,
        requester_system_id=system.id,
        items=[i.code for i in items],
        purpose=body.purpose,
        purpose_text=body.purpose_text,
        legal_basis=body.legal_basis,
        days=body.days,
        status=RequestStatus.PENDING if waiting else RequestStatus.GRANTED,
        requested_by_id=requester.id,
        requested_at=now,
        pending_items=waiting,
    )
    session.add(request)
    session.flush()
    _audit_request(session, requester, "exchange.request_made", request, resource)
    if at_once:
        _grant(session, requester, request, resource, at_once)
    return request


def decide_request(
    session: Session,
    subject: Principal,
    request_id: int,
    *,
    approve: bool,
    items: Sequence[str] | None = None,
    reason: str = "",
) -> SharingRequest:
    """The providing department's approver grants the waiting items (or fewer), or denies."""
    request = _request(session, request_id)
    resource = repository.resource_by_id(session, request.resource_id)
    assert resource is not None
    decider = policy.require_decide(subject, resource.department_id)
    if request.status is not RequestStatus.PENDING:
        raise RequestNotPending("Sharing request {id} was already decided.", id=request_id)
    reason = reason.strip()
    chosen = list(request.pending_items) if items is None else list(dict.fromkeys(items))
    outside = [code for code in chosen if code not in request.pending_items]
    if outside:
        raise UnknownItem(
            "The item {item} is not among those waiting for approval.",
            field="items",
            item=outside[0],
        )
    if approve and not chosen:
        raise UnknownItem("Choose at least one item to approve.", field="items")
    if not approve and not reason:
        raise BadBatch("Please give the reason for the refusal.", field="reason")
    if approve:
        _grant(session, decider, request, resource, chosen)
    granted_before = len(request.items) - len(request.pending_items)
    if approve and len(chosen) == len(request.pending_items):
        request.status = RequestStatus.GRANTED
    elif approve or granted_before:
        request.status = RequestStatus.PARTIAL
    else:
        request.status = RequestStatus.DENIED
    request.decided_by_id = decider.id
    request.decided_at = utcnow()
    request.decision_reason = reason
    _audit_request(
        session,
        decider,
        "exchange.request_approved" if approve else "exchange.request_denied",
        request,
        resource,
        approved=chosen if approve else [],
    )
    return request


def revoke_grant(session: Session, subject: Principal, grant_id: int, *, reason: str) -> Grant:
    grant = repository.grant_by_id(session, grant_id)
    if grant is None:
        raise GrantNotFound("There is no grant {id}.", id=grant_id)
    resource = repository.resource_by_id(session, grant.resource_id)
    assert resource is not None
    revoker = policy.require_revoke(subject, resource.department_id)
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        grant.revoked_by_id = revoker.id
        grant.revoke_reason = reason.strip()
        audit.record(
            session,
            actor=revoker,
            action="exchange.grant_revoked",
            target_type="exchange_grant",
            target_id=str(grant.id),
            details={"resource": resource.code, "reason": grant.revoke_reason},
        )
    return grant


@dataclass
class RequestView:
    request: SharingRequest
    resource: str
    requester: str
    system: str
    grants: list[Grant]


def list_requests(session: Session, subject: Principal, *, side: str = "both") -> list[RequestView]:
    """Requests the official's department made (``requester``) or received (``provider``);
    an administrator sees all."""
    viewer = policy.require_view_requests(subject)
    department_id = None if viewer.department_id is None else viewer.department_id
    views: dict[int, SharingRequest] = {}
    for role in ("provider", "requester") if side == "both" else (side,):
        found = repository.requests_for(
            session,
            provider_department_id=department_id if role == "provider" else None,
            requester_department_id=department_id if role == "requester" else None,
        )
        views.update({r.id: r for r in found})
    return [_view(session, r) for r in sorted(views.values(), key=lambda r: -r.id)]


def get_request(session: Session, subject: Principal, request_id: int) -> RequestView:
    viewer = policy.require_view_requests(subject)
    request = _request(session, request_id)
    view = _view(session, request)
    resource = repository.resource_by_id(session, request.resource_id)
    assert resource is not None
    if viewer.department_id is not None and viewer.department_id not in (
        resource.department_id,
        request.requester_department_id,
    ):
        raise RequestNotFound("There is no sharing request {id}.", id=request_id)
    return view


def _view(session: Session, request: SharingRequest) -> RequestView:
    resource = repository.resource_by_id(session, request.resource_id)
    system = session.get(DepartmentSystem, request.requester_system_id)
    requester = catalog_service.get_department_by_id(
        session,
        Internal("name the department of a sharing request"),
        request.requester_department_id,
    )
    assert resource is not None
    assert system is not None
    return RequestView(
        request,
        resource.code,
        requester.code,
        system.code,
        list(repository.grants_of_request(session, request.id)),
    )


def _request(session: Session, request_id: int) -> SharingRequest:
    request = repository.request_by_id(session, request_id)
    if request is None:
        raise RequestNotFound("There is no sharing request {id}.", id=request_id)
    return request


def _items(resource: InformationResource, codes: Sequence[str]) -> list[ResourceItem]:
    by_code = {i.code: i for i in resource.items}
    chosen = []
    for code in dict.fromkeys(codes):
        item = by_code.get(code)
        if item is None:
            raise UnknownItem(
                "The resource {resource} has no item {item}.",
                field="items",
                resource=resource.code,
                item=code,
            )
        chosen.append(item)
    return chosen


def _grant(
    session: Session,
    actor: Account,
    request: SharingRequest,
    resource: InformationResource,
    items: Sequence[str],
) -> Grant:
    now = utcnow()
    grant = Grant(
        request_id=request.id,
        resource_id=resource.id,
        system_id=request.requester_system_id,
        items=list(items),
        purpose=request.purpose,
        granted_at=now,
        expires_at=now + timedelta(days=request.days),
        rate_per_minute=DEFAULT_RATE_PER_MINUTE,
        window_start=None,
        window_calls=0,
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exchange.grant_made",
        target_type="exchange_grant",
        target_id=str(grant.id),
        details={
            "resource": resource.code,
            "items": list(items),
            "purpose": request.purpose,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    return grant


def _audit_request(
    session: Session,
    actor: Account,
    action: str,
    request: SharingRequest,
    resource: InformationResource,
    **extra: Any,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="exchange_request",
        target_id=str(request.id),
        details={
            "resource": resource.code,
            "items": list(request.items),
            "purpose": request.purpose,
            "status": request.status.value,
            **extra,
        },
    )
