"""Connectors API: department systems report back; administrators watch the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict

from tongban.connectors import service as connectors_service
from tongban.connectors import signing
from tongban.connectors.schemas import CallbackBody
from tongban.db.types import RowId
from tongban.integration import callbacks
from tongban.web.deps import ApiSubject, SessionDep
from tongban.web.system_auth import CurrentDepartmentSystem

router = APIRouter(tags=["connectors"])


@router.post(
    "/api/v1/connectors/callbacks",
    responses={
        401: {"description": "Not signed by a registered department system"},
        409: {"description": "Not allowed in the application's current state"},
    },
)
def report_back(
    body: CallbackBody,
    session: SessionDep,
    system: CurrentDepartmentSystem,
    idempotency_key: str = Header(alias=signing.IDEMPOTENCY_HEADER),
) -> dict[str, Any]:
    """A department system reports on an application it handles (accepted, returned, approved,
    denied, completed...). Signed with the system's secret (X-Tongban-System,
    X-Tongban-Timestamp, X-Tongban-Signature); a retry with the same X-Tongban-Idempotency-Key
    is applied once and answered as the first time, with ``duplicate: true``."""
    return callbacks.handle_callback(session, system, idempotency_key=idempotency_key, body=body)


class HealthRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    system: str
    connector: str
    kind: str
    active: bool
    pending: int
    dead: int
    lag_seconds: float
    oldest_pending_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str


class DeadLetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_type: str
    aggregate_id: str
    attempts: int
    last_error: str
    created_at: datetime


@router.get("/api/v1/connectors/health", response_model=list[HealthRead])
def connector_health(session: SessionDep, subject: ApiSubject) -> object:
    return connectors_service.health(session, subject)


@router.get("/api/v1/connectors/dead-letters", response_model=list[DeadLetterRead])
def dead_letters(session: SessionDep, subject: ApiSubject) -> object:
    return connectors_service.dead_letters(session, subject)


@router.post("/api/v1/connectors/dead-letters/{message_id}/retry", response_model=DeadLetterRead)
def retry_dead_letter(message_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    return connectors_service.retry(session, subject, message_id)
