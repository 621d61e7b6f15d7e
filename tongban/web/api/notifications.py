"""Notifications API: bulk sends and delivery status for administrators, a person's inbox."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from tongban.db.types import RowId
from tongban.notifications import service
from tongban.notifications.models import DeliveryStatus
from tongban.notifications.schemas import (
    BulkResult,
    BulkSend,
    CountRow,
    NotificationRead,
    TemplateRead,
)
from tongban.web.deps import ApiSubject, SessionDep

router = APIRouter(tags=["notifications"])


@router.get("/api/v1/notification-templates", response_model=list[TemplateRead])
def templates(session: SessionDep, subject: ApiSubject) -> object:
    """The events there are templates for, their personalisation fields and channels."""
    return service.list_templates(session, subject)


@router.post(
    "/api/v1/notifications/bulk",
    response_model=BulkResult,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        403: {"description": "Not an administrator"},
        422: {"description": "A row is invalid (the field names it); nothing was queued"},
    },
)
def bulk_send(body: BulkSend, session: SessionDep, subject: ApiSubject) -> BulkResult:
    """Queue one message per row, all or none; each is delivered by the dispatcher with
    retries. Follow their delivery with GET /api/v1/notifications?batch=..."""
    return service.bulk_send(
        session, subject, event=body.event, channel=body.channel, rows=body.rows
    )


@router.get("/api/v1/notifications", response_model=list[NotificationRead])
def list_notifications(
    session: SessionDep,
    subject: ApiSubject,
    event: str | None = None,
    status_: DeliveryStatus | None = Query(default=None, alias="status"),
    batch: str | None = None,
    reference: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> object:
    """Messages with their delivery status, newest first (administrators)."""
    return service.list_recent(
        session,
        subject,
        event=event,
        status=status_,
        batch=batch,
        reference=reference,
        limit=limit,
    )


@router.get("/api/v1/notifications/counts", response_model=list[CountRow])
def counts(session: SessionDep, subject: ApiSubject) -> object:
    """How many messages per event, channel and delivery status (administrators)."""
    return service.counts(session, subject)


@router.get("/api/v1/me/notifications", response_model=list[NotificationRead])
def my_inbox(session: SessionDep, subject: ApiSubject) -> object:
    return service.inbox(session, subject)


@router.get(
    "/api/v1/notifications/{notification_id}",
    response_model=NotificationRead,
    responses={404: {"description": "No such notification open to you"}},
)
def get_notification(notification_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    return service.get(session, subject, notification_id)
