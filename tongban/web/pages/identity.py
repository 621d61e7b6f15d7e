"""Sign-in pages (password, then the authenticator code or setting one up), the account page
(two-step sign-in, sessions, legal persons and acting for them) and the language switch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.federation.sso import service as sso_service
from tongban.identity import credentials
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.errors import SignInFailed
from tongban.identity.models import Account, AccountKind, AgentRole, OfficialRole, WebSession
from tongban.kit import ratelimit
from tongban.kit.i18n import LOCALES, N_, translate
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    PageSubject,
    PageUser,
    PageWebSession,
    PostedForm,
    SessionDep,
    locale,
    public,
)
from tongban.web.pages.templating import render
from tongban.web.ratelimit import limited

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: a crafted link must not bounce people to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# Where a role starts after signing in, first match wins: a page the role may open, never one
# that answers 403 (an administrator has no applications, a supervisor no work queue).
START_PAGES: dict[AccountKind, list[tuple[str | None, str]]] = {
    AccountKind.APPLICANT: [(None, "/applications")],
    AccountKind.OFFICIAL: [
        ("clerk", "/queue"),
        ("reviewer", "/queue"),
        ("approver", "/queue"),
        ("counter_clerk", "/counter"),
        ("supervisor", "/analytics"),
        ("dpo", "/dpo/objections"),
        (None, "/queue"),
    ],
    AccountKind.ADMIN: [("security_admin", "/admin/security"), (None, "/admin/connectors")],
}


def home_for(kind: AccountKind, roles: Sequence[str] = ()) -> str:
    return next(page for role, page in START_PAGES[kind] if role is None or role in roles)


def _message(request: Request, exc: TongbanError) -> str:
    return translate(exc.message, locale(request), **exc.params)


def _with_cookie(response: Response, token: str, max_age: int) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        max_age=max_age,
    )
    return response


def _signed_in_redirect(token: str, target: str) -> Response:
    return _with_cookie(
        RedirectResponse(target, status_code=303), token, get_settings().session_hours * 3600
    )


# --- step 1: the password --------------------------------------------------------------------


@router.get(public("/login"), response_class=HTMLResponse)
def login_page(
    request: Request, session: SessionDep, subject: PageSubject, next: str | None = None
) -> Response:
    return render(
        request,
        "identity/login.html",
        subject,
        next=safe_next(next, ""),
        error=None,
        upstream=sso_service.upstream(session, ANONYMOUS),
    )


def _login_refused(
    request: Request, session: Session, next: str, username: str, error: str
) -> Response:
    return render(
        request,
        "identity/login.html",
        None,
        status_code=401,
        page_path="/login",
        next=safe_next(next, ""),
        username=username,
        error=error,
        upstream=sso_service.upstream(session, ANONYMOUS),
    )


@router.post(public("/login"), dependencies=[limited("sign_in_address")])
def login(request: Request, session: SessionDep, form: PostedForm) -> Response:
    # Checked against this browser's token (PostedForm): another site cannot sign it in.
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:200]
    next = str(form.get("next") or "")
    ratelimit.hit("sign_in_account", username.strip().lower())
    try:
        account = identity_service.authenticate(
            session, username=username.strip(), password=password
        )
    except TongbanError as exc:
        # Rendered, not raised: the failure count and the audit entry are committed.
        return _login_refused(request, session, next, username, _message(request, exc))
    token, pending = identity_service.start_sign_in(session, account)
    target = safe_next(next, home_for(account.kind, account.roles))
    if pending is None:
        return _signed_in_redirect(token, target)
    step = "/login/code" if pending == identity_service.PENDING_OTP else "/login/enrol"
    response = RedirectResponse(f"{step}?next={quote(target, safe='')}", status_code=303)
    return _with_cookie(response, token, get_settings().sign_in_step_minutes * 60)


def _pending(request: Request, session: Session, stage: str) -> tuple[WebSession, Account] | None:
    token = request.cookies.get(SESSION_COOKIE)
    found = identity_service.pending_sign_in(session, token) if token else None
    if found is None or found[0].pending != stage:
        return None
    return found


def _back_to_login(next: str) -> Response:
    return RedirectResponse(f"/login?next={quote(safe_next(next, ''), safe='')}", status_code=303)


# --- step 2: the authenticator code ----------------------------------------------------------


@router.get(public("/login/code"), response_class=HTMLResponse)
def code_page(request: Request, session: SessionDep, next: str = "") -> Response:
    if _pending(request, session, identity_service.PENDING_OTP) is None:
        return _back_to_login(next)
    return render(request, "identity/code.html", None, next=safe_next(next, ""), error=None)


@router.post(public("/login/code"), dependencies=[limited("sign_in_address")])
def enter_code(request: Request, session: SessionDep, form: PostedForm) -> Response:
    next = str(form.get("next") or "")
    found = _pending(request, session, identity_service.PENDING_OTP)
    if found is None:
        return _back_to_login(next)
    _row, account = found
    ratelimit.hit("sign_in_account", account.username.lower())
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        identity_service.check_totp(session, account, str(form.get("code") or ""))
    except SignInFailed as exc:
        # Locked meanwhile (too many wrong codes): start again from the password, later.
        identity_service.close_session(session, token)
        response = _login_refused(request, session, next, account.username, _message(request, exc))
        response.delete_cookie(SESSION_COOKIE)
        return response
    except TongbanError as exc:
        return render(
            request,
            "identity/code.html",
            None,
            status_code=exc.status_code,
            page_path="/login/code",
            next=safe_next(next, ""),
            error=_message(request, exc),
        )
    new_token = identity_service.finish_sign_in(session, token)
    return _signed_in_redirect(new_token, safe_next(next, home_for(account.kind, account.roles)))


# --- or: set up the authenticator (officials and administrators must) ------------------------


def _enrol_page(
    request: Request,
    session: Session,
    account: Account,
    *,
    action: str,
    next: str = "",
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    enrolment = identity_service.begin_totp_enrolment(session, account)
    return render(
        request,
        "identity/enrol.html",
        None if action == "/login/enrol" else account,
        status_code=status_code,
        page_path=action,
        enrolment=enrolment,
        action=action,
        next=next,
        mandatory=account.needs_second_factor,
        error=error,
    )


@router.get(public("/login/enrol"), response_class=HTMLResponse)
def enrol_page(request: Request, session: SessionDep, next: str = "") -> Response:
    found = _pending(request, session, identity_service.PENDING_ENROL)
    if found is None:
        return _back_to_login(next)
    return _enrol_page(request, session, found[1], action="/login/enrol", next=safe_next(next, ""))


@router.post(public("/login/enrol"), dependencies=[limited("sign_in_address")])
def enrol(request: Request, session: SessionDep, form: PostedForm) -> Response:
    next = str(form.get("next") or "")
    found = _pending(request, session, identity_service.PENDING_ENROL)
    if found is None:
        return _back_to_login(next)
    account = found[1]
    ratelimit.hit("sign_in_account", account.username.lower())
    try:
        identity_service.confirm_totp(session, account, str(form.get("code") or ""))
    except TongbanError as exc:
        return _enrol_page(
            request,
            session,
            account,
            action="/login/enrol",
            next=safe_next(next, ""),
            status_code=exc.status_code,
            error=_message(request, exc),
        )
    token = request.cookies.get(SESSION_COOKIE, "")
    new_token = identity_service.finish_sign_in(session, token)
    return _signed_in_redirect(new_token, safe_next(next, home_for(account.kind, account.roles)))


@router.post(public("/logout"))
def logout(request: Request, session: SessionDep, form: PostedForm) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.close_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- the account page ------------------------------------------------------------------------


NOTICES = {
    "totp_on": N_("Two-step sign-in is on."),
    "totp_off": N_("Two-step sign-in is off."),
    "session_ended": N_("The session has ended."),
    "acting": N_("You now act for the legal person shown at the top of the page."),
    "self": N_("You now act for yourself."),
    "granted": N_("The agent is authorised."),
    "revoked": N_("The agent's authorisation is revoked."),
}


ROLE_LABELS = {
    OfficialRole.CLERK: N_("Clerk (accept, return, reject)"),
    OfficialRole.REVIEWER: N_("Reviewer (review)"),
    OfficialRole.APPROVER: N_("Approver (approve, deny, issue the result)"),
    OfficialRole.COUNTER_CLERK: N_("Counter clerk (single window for every department)"),
    OfficialRole.SUPERVISOR: N_("Supervisor (service statistics of every department)"),
    OfficialRole.DPO: N_("Data protection officer (objections to uses of people's data)"),
}
AGENT_ROLE_LABELS = {
    AgentRole.LEGAL_REPRESENTATIVE: N_("Legal representative"),
    AgentRole.AGENT: N_("Agent"),
}
ACR_LABELS = {
    credentials.ACR_PASSWORD: N_("Password"),
    credentials.ACR_TWO_FACTOR: N_("Password and authenticator code"),
}


def _account_page(
    request: Request,
    session: Session,
    subject: Account,
    web_session: WebSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_uscc: str | None = None,
    notice: str | None = None,
) -> Response:
    authorisations = companies_service.my_authorisations(session, subject)
    represented = [
        (a.legal_person, companies_service.agents(session, subject, uscc=a.legal_person.uscc))
        for a in authorisations
        if a.role is AgentRole.LEGAL_REPRESENTATIVE
    ]
    return render(
        request,
        "identity/account.html",
        subject,
        status_code=status_code,
        page_path="/account",
        sessions=identity_service.list_sessions(session, subject),
        current_id=web_session.id,
        authorisations=authorisations,
        represented=represented,
        acting_for_id=web_session.acting_for_id,
        error=error,
        error_uscc=error_uscc,
        notice=NOTICES.get(notice or ""),
        role_labels=ROLE_LABELS,
        agent_role_labels=AGENT_ROLE_LABELS,
        acr_labels=ACR_LABELS,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    done: str | None = None,
) -> Response:
    return _account_page(request, session, subject, web_session, notice=done)


def _refused(
    request: Request,
    session: Session,
    subject: Account,
    web_session: WebSession,
    exc: TongbanError,
    uscc: str | None = None,
) -> Response:
    return _account_page(
        request,
        session,
        subject,
        web_session,
        status_code=exc.status_code,
        error=_message(request, exc),
        error_uscc=uscc,
    )


@router.get("/account/totp", response_class=HTMLResponse)
def totp_page(request: Request, session: SessionDep, subject: PageUser) -> Response:
    if subject.totp_enabled:
        return RedirectResponse("/account", status_code=303)
    return _enrol_page(request, session, subject, action="/account/totp")


@router.post("/account/totp")
def turn_totp_on(
    request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        identity_service.confirm_totp(session, subject, str(form.get("code") or ""))
    except TongbanError as exc:
        return _enrol_page(
            request,
            session,
            subject,
            action="/account/totp",
            status_code=exc.status_code,
            error=_message(request, exc),
        )
    return RedirectResponse("/account?done=totp_on", status_code=303)


@router.post("/account/totp/disable")
def turn_totp_off(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    form: PostedForm,
) -> Response:
    try:
        identity_service.disable_totp(session, subject, str(form.get("code") or ""))
    except TongbanError as exc:
        return _refused(request, session, subject, web_session, exc)
    return RedirectResponse("/account?done=totp_off", status_code=303)


def _signed_out(target: str = "/login") -> Response:
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/account/sessions/{session_id}/revoke")
def revoke_session(
    session_id: RowId,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    form: PostedForm,
) -> Response:
    current = session_id == web_session.id
    try:
        identity_service.revoke_session(session, subject, session_id)
    except TongbanError as exc:
        return _refused(request, session, subject, web_session, exc)
    return _signed_out() if current else RedirectResponse("/account?done=session_ended", 303)


@router.post("/account/sessions/revoke-all")
def sign_out_everywhere(session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    identity_service.sign_out_everywhere(session, subject)
    return _signed_out()


@router.post("/account/acting-for")
def switch_acting_for(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    form: PostedForm,
) -> Response:
    uscc = str(form.get("uscc") or "").strip() or None
    try:
        companies_service.switch_acting_for(session, subject, web_session=web_session, uscc=uscc)
    except TongbanError as exc:
        return _refused(request, session, subject, web_session, exc, uscc)
    return RedirectResponse(f"/account?done={'acting' if uscc else 'self'}", status_code=303)


def _until(value: Any) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Please give a date as YYYY-MM-DD.", field="until") from None


@router.post("/account/companies/{uscc}/agents")
def grant_agent(
    uscc: str,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    form: PostedForm,
) -> Response:
    try:
        companies_service.grant_agent(
            session,
            subject,
            uscc=uscc,
            username=str(form.get("username") or ""),
            until=_until(form.get("until")),
        )
    except TongbanError as exc:
        return _refused(request, session, subject, web_session, exc, uscc)
    return RedirectResponse("/account?done=granted", status_code=303)


@router.post("/account/companies/{uscc}/agents/{username}/revoke")
def revoke_agent(
    uscc: str,
    username: str,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    web_session: PageWebSession,
    form: PostedForm,
) -> Response:
    try:
        companies_service.revoke_agent(session, subject, uscc=uscc, username=username)
    except TongbanError as exc:
        return _refused(request, session, subject, web_session, exc, uscc)
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.get(public("/lang/{code}"))
def switch_language(code: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
