"""Sign-in pages (local login) and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.errors import TongbanError, Unauthenticated
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.kit.i18n import LOCALES, translate
from tongban.web.deps import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    PageSubject,
    PostedForm,
    SessionDep,
    check_csrf,
    locale,
    public,
)
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: a crafted link must not bounce people to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def home_for(kind: AccountKind) -> str:
    return "/queue" if kind is AccountKind.OFFICIAL else "/applications"


@router.get(public("/login"), response_class=HTMLResponse)
def login_page(request: Request, subject: PageSubject, next: str | None = None) -> Response:
    return render(request, "identity/login.html", subject, next=safe_next(next, ""), error=None)


@router.post(public("/login"))
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        account = identity_service.authenticate(
            session, username=username.strip(), password=password
        )
    except Unauthenticated as exc:
        return render(
            request,
            "identity/login.html",
            None,
            status_code=401,
            next=safe_next(next, ""),
            username=username,
            error=translate(exc.message, locale(request)),
        )
    return _signed_in_redirect(session, account, safe_next(next, home_for(account.kind)))


def _signed_in_redirect(session: Session, account: Account, target: str) -> Response:
    token = identity_service.open_session(session, account)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        max_age=get_settings().session_hours * 3600,
    )
    return response


@router.get(public("/register"), response_class=HTMLResponse)
def register_page(request: Request, subject: PageSubject) -> Response:
    return render(request, "identity/register.html", subject, values={}, error=None)


@router.post(public("/register"))
def register(
    request: Request, session: SessionDep, subject: PageSubject, form: PostedForm
) -> Response:
    values = {k: str(form.get(k) or "") for k in ("username", "display_name", "id_number", "phone")}
    try:
        account = identity_service.register_applicant(
            session, subject, password=str(form.get("password") or ""), **values
        )
    except TongbanError as exc:
        return render(
            request,
            "identity/register.html",
            subject,
            status_code=exc.status_code,
            values=values,
            error=translate(exc.message, locale(request), **exc.params),
            error_field=exc.field,
        )
    return _signed_in_redirect(session, account, "/applications")


@router.post(public("/logout"))
def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.close_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get(public("/lang/{code}"))
def switch_language(code: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
