"""Security administration API: clearances and labels under dual control."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from tongban.audit import refusals
from tongban.db.types import RowId
from tongban.security import service as security_service
from tongban.security.models import ChangeKind, ChangeStatus
from tongban.web.deps import ApiSubject, SessionDep

router = APIRouter(tags=["security"])


class ChangeProposal(BaseModel):
    kind: ChangeKind
    target: str = Field(
        max_length=120,
        description="A username (clearance) or ITEM-CODE.field_name (label).",
        examples=["health_officer", "HEALTH-0002.expected_date"],
    )
    value: str = Field(
        max_length=400, description="grade or grade:compartment,…", examples=["important:health"]
    )
    reason: str = Field(max_length=2000)


class ChangeDecision(BaseModel):
    reason: str = Field(default="", max_length=2000)


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ChangeKind
    target_name: str
    value: str
    previous: str | None
    reason: str
    status: ChangeStatus
    proposed_by_name: str
    proposed_at: datetime
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str


class ClearanceRead(BaseModel):
    username: str
    clearance: str


@router.get("/api/v1/security/changes", response_model=list[ChangeRead])
def list_changes(
    session: SessionDep, subject: ApiSubject, status_: ChangeStatus | None = None
) -> list[ChangeRead]:
    changes = security_service.list_changes(session, subject, status=status_)
    return [ChangeRead.model_validate(c) for c in changes]


@router.post(
    "/api/v1/security/changes", response_model=ChangeRead, status_code=status.HTTP_201_CREATED
)
def propose_change(body: ChangeProposal, session: SessionDep, subject: ApiSubject) -> ChangeRead:
    """Propose a change; it applies only when another security administrator approves it."""
    change = security_service.propose_change(
        session, subject, kind=body.kind, target=body.target, value=body.value, reason=body.reason
    )
    return ChangeRead.model_validate(change)


@router.post("/api/v1/security/changes/{change_id}/approve", response_model=ChangeRead)
def approve_change(
    change_id: RowId, body: ChangeDecision, session: SessionDep, subject: ApiSubject
) -> ChangeRead:
    change = security_service.decide_change(
        session, subject, change_id, approve=True, reason=body.reason
    )
    return ChangeRead.model_validate(change)


@router.post("/api/v1/security/changes/{change_id}/reject", response_model=ChangeRead)
def reject_change(
    change_id: RowId, body: ChangeDecision, session: SessionDep, subject: ApiSubject
) -> ChangeRead:
    change = security_service.decide_change(
        session, subject, change_id, approve=False, reason=body.reason
    )
    return ChangeRead.model_validate(change)


@router.get("/api/v1/security/clearances/{username}", response_model=ClearanceRead)
def clearance(username: str, session: SessionDep, subject: ApiSubject) -> ClearanceRead:
    return ClearanceRead(
        username=username, clearance=security_service.clearance_of(session, subject, username)
    )


class SecurityEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    last_at: datetime
    kind: str
    code: str
    status: int
    account_id: int | None
    client: str
    method: str
    path: str
    # More than 1: a flood of this client's refusals of this kind in one minute.
    count: int


@router.get("/api/v1/security/events", response_model=list[SecurityEventRead])
def security_events(
    session: SessionDep,
    subject: ApiSubject,
    kind: str | None = Query(default=None, max_length=20),
    client: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[SecurityEventRead]:
    """Refused requests (who, what, why), newest first; floods counted per client and minute."""
    return [
        SecurityEventRead.model_validate(e)
        for e in refusals.recent(session, subject, kind=kind, client=client, limit=limit)
    ]
