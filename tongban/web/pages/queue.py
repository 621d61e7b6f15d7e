"""The official's work queue and case page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.applications import service
from tongban.applications.states import Action, Status
from tongban.errors import InvalidInput, TongbanError
from tongban.kit.i18n import translate
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request, session: SessionDep, subject: PageUser, status: Status | None = None
) -> Response:
    cases = service.work_queue(session, subject, statuses=[status] if status else None)
    return render(
        request,
        "queue/list.html",
        subject,
        cases=cases,
        status=status,
        service=service,
        statuses=list(Status),
    )


@router.get("/queue/{number}", response_class=HTMLResponse)
def case(
    number: str, request: Request, session: SessionDep, subject: PageUser, error: str | None = None
) -> Response:
    application = service.get(session, subject, number)
    return render(
        request,
        "queue/case.html",
        subject,
        application=application,
        limit=service.time_limit(application),
        fields=service.field_specs(application.item),
        actions=service.next_actions(subject, application),
        error=error,
    )


@router.post("/queue/{number}/act")
def act(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        action = Action(str(form.get("action")))
    except ValueError:
        raise InvalidInput("Unknown action.", field="action") from None
    try:
        service.act(
            session,
            subject,
            number,
            action,
            reason=str(form.get("reason") or ""),
            result_note=str(form.get("result_note") or ""),
        )
    except TongbanError as exc:
        application = service.get(session, subject, number)
        return render(
            request,
            "queue/case.html",
            subject,
            status_code=exc.status_code,
            page_path=f"/queue/{number}",
            application=application,
            limit=service.time_limit(application),
            fields=service.field_specs(application.item),
            actions=service.next_actions(subject, application),
            error=translate(exc.message, locale(request), **exc.params),
        )
    return RedirectResponse(f"/queue/{number}", status_code=303)
