"""The home portal's page of a person's applications handled in other regions (跨省通办), and
signing in through the parent node's platform (the sign-in page's other button)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.config import get_settings
from tongban.errors import TongbanError
from tongban.federation.applications import service as cross_region
from tongban.federation.errors import UpstreamRefused
from tongban.federation.sso import service as sso_service
from tongban.identity.models import AccountKind
from tongban.kit.i18n import N_, translate
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import SESSION_COOKIE, PageUser, SessionDep, locale, public
from tongban.web.pages import labels
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)

# Statuses only a cross-region application has, besides the handling node's own.
REMOTE_STATUS = {
    "sent": N_("Sent to the handling region"),
    "refused": N_("Not filed by the handling region"),
}


def status_label(status: str) -> str:
    return REMOTE_STATUS.get(status) or labels.STATUS.get(status, status)  # type: ignore[call-overload]


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


@router.get("/federation/applications", response_class=HTMLResponse)
def remote_applications(request: Request, session: SessionDep, subject: PageUser) -> Response:
    rows: list[dict[str, Any]] = [
        {
            "application": a,
            "history": [
                {
                    "status": h.get("status", ""),
                    "at": _when(h.get("at", "")),
                    "reason": h.get("reason"),
                }
                for h in a.history
            ],
        }
        for a in cross_region.my_remote_applications(session, subject)
    ]
    return render(
        request,
        "federation/applications.html",
        subject,
        rows=rows,
        status_label=status_label,
    )


# The sign-in's state, also kept in the browser that started it: a callback arriving in another
# browser (someone else's code, pushed at a victim: login CSRF) is refused.
STATE_COOKIE = "tongban_upstream_state"
STATE_PATH = "/login/upstream"


def _refused(request: Request, exc: TongbanError) -> Response:
    return render(
        request,
        "error.html",
        None,
        status_code=exc.status_code,
        status=exc.status_code,
        code=exc.code,
        message=translate(exc.message, locale(request), **exc.params),
    )


@router.get(public("/login/upstream"))
def sign_in_upstream(request: Request, session: SessionDep, next: str = "") -> Response:
    """Go to the parent platform's sign-in (at once, if the person is signed in there)."""
    from tongban.web.pages.identity import safe_next

    try:
        started = sso_service.begin_sign_in(
            session, ANONYMOUS, next_path=safe_next(next, ""), locale=locale(request)
        )
    except TongbanError as exc:
        return _refused(request, exc)
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(sso_service.STATE_LIFETIME.total_seconds()),
        path=STATE_PATH,
        httponly=True,
        # Lax: the callback is a top-level GET from the parent's site, and must carry it.
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


@router.get(public(sso_service.CALLBACK))
def sign_in_upstream_done(
    request: Request,
    session: SessionDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """The parent sends the person back here with a code; every check passes or nobody is
    signed in."""
    from tongban.web.pages.identity import home_for, safe_next

    if error or not code:
        exc: TongbanError = UpstreamRefused(
            "The parent platform did not sign you in; you can sign in here instead."
        )
        return _refused(request, exc)
    try:
        done = sso_service.complete_sign_in(
            session,
            ANONYMOUS,
            code=code,
            state=state,
            browser_state=request.cookies.get(STATE_COOKIE, ""),
        )
    except TongbanError as exc:
        # Rendered, not raised: the used-up state and the refusal's audit entry are kept.
        response = _refused(request, exc)
        response.delete_cookie(STATE_COOKIE, path=STATE_PATH)
        return response
    target = safe_next(done.next_path, home_for(AccountKind(done.account.kind)))
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        max_age=int(done.lifetime.total_seconds()),
    )
    return response
