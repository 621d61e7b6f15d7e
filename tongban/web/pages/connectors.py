"""Operations page for administrators: connector health, the outbox backlog, dead letters."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.connectors import service as connectors_service
from tongban.db.types import RowId
from tongban.web.deps import PageUser, PostedForm, SessionDep
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/connectors", response_class=HTMLResponse)
def status(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "connectors/status.html",
        subject,
        health=connectors_service.health(session, subject),
        dead=connectors_service.dead_letters(session, subject),
    )


@router.post("/admin/connectors/dead/{message_id}/retry")
def retry(message_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    connectors_service.retry(session, subject, message_id)
    return RedirectResponse("/admin/connectors#dead", status_code=303)
