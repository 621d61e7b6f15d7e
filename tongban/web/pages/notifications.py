"""A person's in-app messages; the administrators' delivery overview."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.db.types import RowId
from tongban.notifications import service
from tongban.web.deps import PageUser, PostedForm, SessionDep
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
def inbox(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request, "notifications/inbox.html", subject, messages=service.inbox(session, subject)
    )


@router.post("/notifications/{notification_id}/read")
def mark_read(
    notification_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    service.mark_read(session, subject, notification_id)
    return RedirectResponse("/notifications", status_code=303)


@router.get("/admin/notifications", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "notifications/admin.html",
        subject,
        counts=service.counts(session, subject),
        recent=service.list_recent(session, subject, limit=50),
    )
