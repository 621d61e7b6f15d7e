"""Data sharing exchange API: the resource catalog, sharing requests and grants, the gateway."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tongban.connectors.models import DepartmentSystem
from tongban.db.types import RowId
from tongban.exchange import service as exchange
from tongban.exchange.models import InformationResource
from tongban.exchange.schemas import (
    DecisionIn,
    GatewayAnswer,
    GatewayQuery,
    GrantRead,
    ResourceRead,
    ResourceSpec,
    RevokeIn,
    SharingRequestIn,
    SharingRequestRead,
    UsageDays,
)
from tongban.identity.models import Account
from tongban.web.deps import ApiSubject, SessionDep
from tongban.web.system_auth import ExchangeClient

router = APIRouter(tags=["data exchange"])


def resource_read(
    session: Session, subject: Account, resource: InformationResource
) -> ResourceRead:
    return ResourceRead.model_validate(exchange.describe(session, subject, resource))


def request_read(view: exchange.RequestView) -> SharingRequestRead:
    request = view.request
    return SharingRequestRead(
        id=request.id,
        resource=view.resource,
        requester=view.requester,
        system=view.system,
        items=request.items,
        pending_items=request.pending_items,
        purpose=request.purpose,
        purpose_text=request.purpose_text,
        legal_basis=request.legal_basis,
        days=request.days,
        status=request.status,
        requested_at=request.requested_at,
        decided_at=request.decided_at,
        decision_reason=request.decision_reason,
        grants=[grant_read(g, view.resource, view.system) for g in view.grants],
    )


def grant_read(grant: Any, resource: str, system: str, calls: int = 0) -> GrantRead:
    return GrantRead(
        id=grant.id,
        resource=resource,
        system=system,
        items=grant.items,
        purpose=grant.purpose,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        rate_per_minute=grant.rate_per_minute,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        calls=calls,
    )


@router.get("/api/v1/exchange/resources", response_model=list[ResourceRead])
def list_resources(
    session: SessionDep,
    subject: ApiSubject,
    text: str | None = None,
    department: str | None = None,
) -> list[ResourceRead]:
    """Search the data resource catalog by words (titles, item names) and department."""
    found = exchange.search(session, subject, text=text, department=department)
    return [resource_read(session, subject, r) for r in found]


@router.post(
    "/api/v1/exchange/resources",
    response_model=list[ResourceRead],
    status_code=status.HTTP_201_CREATED,
)
def register_resources(
    body: list[ResourceSpec], session: SessionDep, subject: ApiSubject
) -> list[ResourceRead]:
    """Register or update resources (the providing department's approver or an administrator)."""
    exchange.register_resources(session, subject, body)
    return [
        resource_read(session, subject, exchange.get_resource(session, subject, spec.code))
        for spec in body
    ]


@router.get("/api/v1/exchange/resources/{code}", response_model=ResourceRead)
def get_resource(code: str, session: SessionDep, subject: ApiSubject) -> ResourceRead:
    return resource_read(session, subject, exchange.get_resource(session, subject, code))


@router.get("/api/v1/exchange/resources/{code}/table-schema.json")
def table_schema(code: str, session: SessionDep, subject: ApiSubject) -> dict[str, Any]:
    """The resource's records as a Frictionless Table Schema."""
    return exchange.table_schema(session, subject, code)


@router.get("/api/v1/exchange/catalog.jsonld")
def catalog_dcat(request: Request, session: SessionDep, subject: ApiSubject) -> JSONResponse:
    """The whole catalog as DCAT in JSON-LD."""
    document = exchange.catalog_dcat(session, subject, base_url=request.app.state.public_url)
    return JSONResponse(document, media_type="application/ld+json")


@router.post(
    "/api/v1/exchange/requests",
    response_model=SharingRequestRead,
    status_code=status.HTTP_201_CREATED,
)
def request_sharing(
    body: SharingRequestIn, session: SessionDep, subject: ApiSubject
) -> SharingRequestRead:
    """Ask for items of a resource for one of your department's systems. Unconditional items
    are granted at once; conditional ones wait for the providing department's approver."""
    request = exchange.request_sharing(session, subject, body)
    return request_read(exchange.get_request(session, subject, request.id))


@router.get("/api/v1/exchange/requests", response_model=list[SharingRequestRead])
def list_requests(
    session: SessionDep, subject: ApiSubject, side: str = "both"
) -> list[SharingRequestRead]:
    """Requests your department made (``side=requester``) or received (``side=provider``)."""
    return [request_read(v) for v in exchange.list_requests(session, subject, side=side)]


@router.get("/api/v1/exchange/requests/{request_id}", response_model=SharingRequestRead)
def get_request(request_id: RowId, session: SessionDep, subject: ApiSubject) -> SharingRequestRead:
    return request_read(exchange.get_request(session, subject, request_id))


@router.post("/api/v1/exchange/requests/{request_id}/decision", response_model=SharingRequestRead)
def decide(
    request_id: RowId, body: DecisionIn, session: SessionDep, subject: ApiSubject
) -> SharingRequestRead:
    exchange.decide_request(
        session, subject, request_id, approve=body.approve, items=body.items, reason=body.reason
    )
    return request_read(exchange.get_request(session, subject, request_id))


@router.get("/api/v1/exchange/grants", response_model=list[GrantRead])
def provided_grants(session: SessionDep, subject: ApiSubject) -> list[GrantRead]:
    """Grants on your department's resources: who uses your data, for what, how often."""
    return [
        grant_read(grant, resource, system, calls)
        for grant, resource, system, calls in exchange.provided_grants(session, subject)
    ]


@router.post("/api/v1/exchange/grants/{grant_id}/revoke", response_model=GrantRead)
def revoke(grant_id: RowId, body: RevokeIn, session: SessionDep, subject: ApiSubject) -> GrantRead:
    grant = exchange.revoke_grant(session, subject, grant_id, reason=body.reason)
    return grant_read(grant, "", "")


class UsageRead(BaseModel):
    days: list[date]
    per_resource: dict[str, list[int]]
    top_requesters: list[tuple[str, int]]
    denied: list[tuple[str, str, int]]
    total: int


@router.get("/api/v1/exchange/usage", response_model=UsageRead)
def usage(session: SessionDep, subject: ApiSubject, days: UsageDays = 14) -> UsageRead:
    """Calls per resource per day, top requesters and denied calls."""
    figures = exchange.usage(session, subject, days=days)
    return UsageRead(**vars(figures))


@router.post(
    "/api/v1/exchange/query",
    response_model=GatewayAnswer,
    responses={
        401: {"description": "No valid client-credentials token"},
        403: {"description": "no_grant, grant_expired, grant_revoked, item_not_granted"},
        422: {"description": "bad_batch: no keys, too many, or malformed"},
        429: {
            "description": "rate_limited: the grant's or the system's calls a minute are used "
            "up, or this address sent too many calls without a valid token"
        },
    },
)
def query(
    body: GatewayQuery, request: Request, session: SessionDep, system: ExchangeClient
) -> GatewayAnswer:
    """The gateway: the records of ``keys`` (e.g. ID numbers), with only the items granted to
    the calling system for ``purpose``, masked for its clearance. Every call is audited."""
    return serve_query(session, system, body)


def serve_query(session: Session, system: DepartmentSystem, body: GatewayQuery) -> GatewayAnswer:
    """Run ``body`` through the gateway as ``system`` (called here, or forwarded by another
    node); the gateway keeps a refusal apart from the call's undone transaction."""
    answer = exchange.query(
        session,
        system,
        resource=body.resource,
        purpose=body.purpose,
        keys=body.keys,
        items=body.items,
    )
    return GatewayAnswer.model_validate(vars(answer))
