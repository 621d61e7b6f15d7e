"""A department system reports back (a decision, a return, a result) by a signed, idempotent
callback, over the API or in a file batch (``inbox``): applied as the system's own official
account through the applications' service, so the same policy checks and audit apply."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.connectors import policy
from tongban.connectors.models import DepartmentSystem, InboundCallback
from tongban.connectors.schemas import CallbackBody
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.kit.clock import utcnow


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
