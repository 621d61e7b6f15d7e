"""Following an application without an account: number, one-time code, progress."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tongban.applications import service as applications_service
from tongban.errors import TongbanError
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.tracking import service
from tongban.web.deps import PageSubject, PostedForm, SessionDep, locale, public
from tongban.web.pages.templating import render
from tongban.web.ratelimit import limited

router = APIRouter(include_in_schema=False)


@router.get(public("/track"), response_class=HTMLResponse)
def start(
    request: Request, session: SessionDep, subject: PageSubject, number: str = ""
) -> Response:
    return render(request, "tracking/start.html", subject, number=number[:40])


@router.post(
    public("/track"), response_class=HTMLResponse, dependencies=[limited("tracking_code_address")]
)
def send_code(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    number = str(form.get("number") or "")[:40]
    channel: service.TrackChannel = "email" if form.get("channel") == "email" else "sms"
    try:
        service.request_code(session, subject or ANONYMOUS, number=number, channel=channel)
    except TongbanError as exc:
        page = render(
            request,
            "tracking/start.html",
            subject,
            status_code=exc.status_code,
            page_path="/track",
            number=number,
            error=translate(exc.message, locale(request), **exc.params),
        )
        page.headers.update(exc.headers())  # Retry-After when this number had its codes
        return page
    return render(request, "tracking/code.html", subject, page_path="/track", number=number)


@router.post(
    public("/track/progress"),
    response_class=HTMLResponse,
    dependencies=[limited("tracking_address")],
)
def progress(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    number = str(form.get("number") or "")[:40]
    try:
        application = service.track(
            session, subject or ANONYMOUS, number=number, code=str(form.get("code") or "")[:12]
        )
    except TongbanError as exc:
        # The code form again, with the reason (the attempt is counted apart).
        return render(
            request,
            "tracking/code.html",
            subject,
            status_code=exc.status_code,
            page_path="/track",
            number=number,
            error=translate(exc.message, locale(request), **exc.params),
        )
    return render(
        request,
        "tracking/progress.html",
        subject,
        page_path="/track",
        application=application,
        limit=applications_service.time_limit(application),
    )
