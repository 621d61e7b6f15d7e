"""Getting an account: registering online (name, resident ID, phone), or claiming one opened at
the single window (resident ID); either way a one-time code comes by SMS, and the person then
chooses a username and password and is signed in at once.

Both first steps answer the same whatever the ID number has (``identity.registration``), so the
pages never tell a stranger who has an account.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tongban.errors import TongbanError
from tongban.identity import registration, walk_ins
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.kit.i18n import N_
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import PageSubject, PostedForm, SessionDep, public
from tongban.web.pages.identity import _message, _signed_in_redirect
from tongban.web.pages.templating import render
from tongban.web.ratelimit import limited

router = APIRouter(include_in_schema=False)

CLAIM_SENT = N_(
    "If an account was opened at a counter for this ID number, a code is on its way to the "
    "mobile phone given there. It is valid for 10 minutes."
)


def _finish_page(
    request: Request,
    subject: Account | None,
    *,
    start: str,
    id_number: str,
    username: str = "",
    status_code: int = 200,
    error: str | None = None,
    error_field: str | None = None,
) -> Response:
    """The second step (code, username, password) of registering (``start`` /register) or
    claiming (``start`` /claim)."""
    return render(
        request,
        "identity/claim_finish.html",
        subject,
        status_code=status_code,
        page_path=start,
        start=start,
        sent=registration.SENT if start == "/register" else CLAIM_SENT,
        id_number=id_number,
        username=username,
        error=error,
        error_field=error_field,
    )


@router.get(public("/register"), response_class=HTMLResponse)
def register_page(request: Request, subject: PageSubject) -> Response:
    return render(request, "identity/register.html", subject, values={}, error=None)


@router.post(
    public("/register"), response_class=HTMLResponse, dependencies=[limited("register_address")]
)
def register(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    values = {k: str(form.get(k) or "")[:50] for k in ("display_name", "id_number", "phone")}
    try:
        registration.request(session, subject or ANONYMOUS, **values)
    except TongbanError as exc:
        return render(
            request,
            "identity/register.html",
            subject,
            status_code=exc.status_code,
            page_path="/register",
            values=values,
            error=_message(request, exc),
            error_field=exc.field,
        )
    return _finish_page(
        request, subject, start="/register", id_number=values["id_number"].strip().upper()
    )


@router.get(public("/claim"), response_class=HTMLResponse)
def start(request: Request, subject: PageSubject) -> Response:
    return render(request, "identity/claim.html", subject, id_number="")


@router.post(public("/claim"), response_class=HTMLResponse, dependencies=[limited("claim_address")])
def send_code(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    id_number = str(form.get("id_number") or "").strip()[:18]
    try:
        walk_ins.request_claim_code(session, subject or ANONYMOUS, id_number=id_number)
    except TongbanError as exc:
        return render(
            request,
            "identity/claim.html",
            subject,
            status_code=exc.status_code,
            page_path="/claim",
            id_number=id_number,
            error=_message(request, exc),
        )
    return _finish_page(request, subject, start="/claim", id_number=id_number)


@router.post(public("/register/finish"), dependencies=[limited("claim_address")])
@router.post(public("/claim/finish"), dependencies=[limited("claim_address")])
def finish(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    id_number = str(form.get("id_number") or "").strip()[:18]
    username = str(form.get("username") or "")[:40]
    start = "/register" if request.url.path == "/register/finish" else "/claim"
    try:
        account = registration.finish(
            session,
            subject or ANONYMOUS,
            id_number=id_number,
            code=str(form.get("code") or "")[:12],
            username=username,
            password=str(form.get("password") or ""),
        )
    except TongbanError as exc:
        # Rendered, not raised: a counted attempt is committed.
        return _finish_page(
            request,
            subject,
            start=start,
            id_number=id_number,
            username=username,
            status_code=exc.status_code,
            error=_message(request, exc),
            error_field=exc.field,
        )
    token = identity_service.open_session(session, account)
    return _signed_in_redirect(token, "/applications")
