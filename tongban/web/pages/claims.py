"""Claiming an account opened at the single window: resident ID, a one-time code sent to the
phone given at the counter, then a username and password of one's own; signed in at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tongban.errors import TongbanError
from tongban.identity import service as identity_service
from tongban.identity import walk_ins
from tongban.web.deps import PageSubject, PostedForm, SessionDep, public
from tongban.web.pages.identity import _message, _signed_in_redirect
from tongban.web.pages.templating import render
from tongban.web.ratelimit import limited

router = APIRouter(include_in_schema=False)


@router.get(public("/claim"), response_class=HTMLResponse)
def start(request: Request, subject: PageSubject) -> Response:
    return render(request, "identity/claim.html", subject, id_number="")


@router.post(public("/claim"), response_class=HTMLResponse, dependencies=[limited("claim_address")])
def send_code(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    id_number = str(form.get("id_number") or "").strip()[:18]
    try:
        walk_ins.request_claim_code(session, subject, id_number=id_number)
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
    return render(
        request,
        "identity/claim_finish.html",
        subject,
        page_path="/claim",
        id_number=id_number,
        username="",
    )


@router.post(public("/claim/finish"), dependencies=[limited("claim_address")])
def finish(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    id_number = str(form.get("id_number") or "").strip()[:18]
    username = str(form.get("username") or "")[:40]
    try:
        account = walk_ins.claim(
            session,
            subject,
            id_number=id_number,
            code=str(form.get("code") or "")[:12],
            username=username,
            password=str(form.get("password") or ""),
        )
    except TongbanError as exc:
        # Rendered, not raised: a counted attempt is committed.
        return render(
            request,
            "identity/claim_finish.html",
            subject,
            status_code=exc.status_code,
            page_path="/claim",
            id_number=id_number,
            username=username,
            error=_message(request, exc),
            error_field=exc.field,
        )
    token = identity_service.open_session(session, account)
    return _signed_in_redirect(token, "/applications")
