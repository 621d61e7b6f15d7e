"""Rating a case, the department's rectification pages, and the public satisfaction page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.applications import service as applications_service
from tongban.db.types import RowId
from tongban.errors import TongbanError
from tongban.evaluations import service
from tongban.evaluations.indicators import INDICATORS, LEVELS
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import PageSubject, PageUser, PostedForm, SessionDep, locale, public
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _rate_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    number: str,
    *,
    error: TongbanError | None = None,
    chosen: dict[str, int] | None = None,
    comment: str = "",
) -> Response:
    application = applications_service.get(session, subject, number)
    mine = service.of_application(session, subject, number)
    return render(
        request,
        "evaluations/rate.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/applications/{number}/rate",
        application=application,
        mine=mine,
        indicators=INDICATORS[mine.channel],
        levels=LEVELS,
        chosen=chosen or {},
        comment=comment,
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/applications/{number}/rate", response_class=HTMLResponse)
def rate_form(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _rate_page(request, session, subject, number)


@router.post("/applications/{number}/rate")
def rate(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    chosen: dict[str, int] = {}
    for key, value in form.items():
        if key.startswith("i_") and isinstance(value, str) and value.isdigit():
            chosen[key[2:]] = int(value)
    comment = str(form.get("comment") or "")
    try:
        service.rate(session, subject, number=number, indicators=chosen, comment=comment)
    except TongbanError as exc:
        return _rate_page(
            request, session, subject, number, error=exc, chosen=chosen, comment=comment
        )
    return RedirectResponse(f"/applications/{number}?rated=1#rating", status_code=303)


@router.get("/rectifications", response_class=HTMLResponse)
def rectifications(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "evaluations/rectifications.html",
        subject,
        cases=service.department_rectifications(session, subject),
    )


def _case_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    rectification_id: RowId,
    error: TongbanError | None = None,
) -> Response:
    found, evaluation = service.get_rectification(session, subject, rectification_id)
    return render(
        request,
        "evaluations/rectification.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/rectifications/{rectification_id}",
        case=found,
        # The trace keeps times as ISO text; shown in the deployment's time zone.
        steps=[{**s, "at": datetime.fromisoformat(s["at"])} for s in found.trace["steps"]],
        evaluation=evaluation,
        indicators=INDICATORS[evaluation.channel],
        levels=LEVELS,
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/rectifications/{rectification_id}", response_class=HTMLResponse)
def rectification(
    rectification_id: RowId, request: Request, session: SessionDep, subject: PageUser
) -> Response:
    return _case_page(request, session, subject, rectification_id)


@router.post("/rectifications/{rectification_id}/reply")
def reply(
    rectification_id: RowId,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    try:
        service.reply(session, subject, rectification_id, text=str(form.get("reply") or ""))
    except TongbanError as exc:
        return _case_page(request, session, subject, rectification_id, exc)
    return RedirectResponse(f"/rectifications/{rectification_id}", status_code=303)


@router.post("/rectifications/{rectification_id}/callback")
def callback(
    rectification_id: RowId,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    try:
        service.record_callback(
            session,
            subject,
            rectification_id,
            satisfied=form.get("satisfied") == "yes",
            note=str(form.get("note") or ""),
        )
    except TongbanError as exc:
        return _case_page(request, session, subject, rectification_id, exc)
    return RedirectResponse(f"/rectifications/{rectification_id}", status_code=303)


@router.get(public("/satisfaction"), response_class=HTMLResponse)
def satisfaction(request: Request, session: SessionDep, subject: PageSubject) -> Response:
    return render(
        request,
        "evaluations/satisfaction.html",
        subject,
        figures=service.satisfaction(session, subject or ANONYMOUS),
        levels=LEVELS,
    )
