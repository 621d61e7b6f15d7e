"""The provider's pages: the authorization endpoint (sign in, consent) and logout.

They share the portal's sign-in: the ``tongban_session`` cookie is the one sign-on, so a person
signed in at the portal goes straight through, and one who is not signs in at ``/login`` and is
sent back here.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tongban.identity import service as identity_service
from tongban.identity.models import Account, WebSession
from tongban.identity.oidc import authorize as authorize_endpoint
from tongban.identity.oidc import logout as logout_endpoint
from tongban.identity.oidc.server import HttpRequest, HttpResponse, Provider
from tongban.kit.i18n import translate
from tongban.web.csp import content_security_policy
from tongban.web.deps import SESSION_COOKIE, SessionDep, csrf_ok, locale, public
from tongban.web.oidc import OAuthHttp, ProviderDep, respond
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request, session: Session) -> tuple[WebSession, Account] | None:
    token = request.cookies.get(SESSION_COOKIE)
    return identity_service.session_for_token(session, token) if token else None


def _form_action(response: Response, *origins: str) -> Response:
    """Let this page's form lead on to the client (see ``content_security_policy``)."""
    response.headers["Content-Security-Policy"] = content_security_policy(form_action=origins)
    return response


def _origin(uri: str | None) -> str | None:
    if not uri:
        return None
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _ends_a_form_post(request: Request, target: str) -> bool:
    """Whether redirecting to ``target`` would end a chain that began with one of our forms
    (the sign-in form, whose answer is sent on here): browsers hold such a redirect to that
    page's ``form-action 'self'`` and block it. A page of our own that moves on ends the chain."""
    same_origin = request.headers.get("sec-fetch-site") == "same-origin"
    navigating = request.headers.get("sec-fetch-mode") == "navigate"
    here = f"{request.url.scheme}://{request.url.netloc}"
    return same_origin and navigating and _origin(target) != here


def _finish(request: Request, result: HttpResponse, subject: Account | None) -> Response:
    """A redirect back to the client, or an error no client could be told of (RFC 6749
    4.1.2.1): shown as a page to a person, as JSON to a program."""
    if result.location and _ends_a_form_post(request, result.location):
        return render(request, "oidc/continue.html", subject, target=result.location)
    if result.status < 400 or "text/html" not in request.headers.get("accept", ""):
        return respond(result)
    body = result.body if isinstance(result.body, dict) else {}
    return render(
        request,
        "error.html",
        subject,
        status_code=result.status,
        status=result.status,
        code=body.get("error", "invalid_request"),
        message=translate(
            "This sign-in request cannot be accepted: {reason}",
            locale(request),
            reason=body.get("error_description") or body.get("error", ""),
        ),
    )


def _authorize(
    request: Request, http: HttpRequest, server: Provider, decision: bool | None
) -> Response:
    signed_in = _signed_in(request, server.db)
    subject = signed_in[1] if signed_in else None
    outcome = authorize_endpoint.authorize(server, http, signed_in, decision=decision)
    if outcome.login_next is not None:
        return RedirectResponse(f"/login?next={quote(outcome.login_next, safe='')}", 303)
    if outcome.consent is not None:
        consent = outcome.consent
        page = render(
            request,
            "oidc/consent.html",
            subject,
            client_name=consent.client_name,
            first_party=consent.first_party,
            scopes=consent.scopes,
            params=consent.params,
        )
        return _form_action(page, consent.redirect_origin)
    assert outcome.response is not None
    return _finish(request, outcome.response, subject)


@router.get(public(authorize_endpoint.PATH))
def authorize(request: Request, http: OAuthHttp, server: ProviderDep) -> Response:
    return _authorize(request, http, server, None)


@router.post(authorize_endpoint.PATH)
def authorize_post(request: Request, http: OAuthHttp, server: ProviderDep) -> Response:
    """An authentication request sent by POST (OIDC Core 3.1.2.1), or the answer of our consent
    form (``decision``), which must carry our CSRF token."""
    form = dict(http.form)
    if "decision" not in form:
        return _authorize(request, http, server, None)
    if not csrf_ok(request, form.get("csrf")):
        server.refuse(
            http,
            error="access_denied",
            description="A consent answer without a valid CSRF token.",
            actor=_subject(request, server),
        )
        return render(
            request,
            "error.html",
            None,
            status_code=403,
            status=403,
            code="forbidden",
            message=translate(
                "The form has expired; please reload the page and try again.", locale(request)
            ),
        )
    return _authorize(request, http, server, form.get("decision") == "allow")


def _subject(request: Request, server: Provider) -> Account | None:
    signed_in = _signed_in(request, server.db)
    return signed_in[1] if signed_in else None


@router.get(public(logout_endpoint.PATH))
@router.post(logout_endpoint.PATH)
def logout(request: Request, http: OAuthHttp, server: ProviderDep, session: SessionDep) -> Response:
    """RP-initiated logout. A relying party may GET or POST here; only our own confirmation
    form (with its CSRF token) counts as the person's "yes, sign me out"."""
    form = dict(http.form)
    confirmed = (
        http.method == "POST"
        and form.get("confirm") == "yes"
        and csrf_ok(request, form.get("csrf"))
    )
    signed_in = _signed_in(request, session)
    outcome = logout_endpoint.logout(
        server, http, signed_in, request.cookies.get(SESSION_COOKIE), confirmed=confirmed
    )
    if outcome.confirm:
        page = render(
            request,
            "oidc/logout.html",
            signed_in[1] if signed_in else None,
            client_name=outcome.client_name,
            params=outcome.params or [],
        )
        origin = _origin(outcome.redirect_uri)
        return _form_action(page, *([origin] if origin else []))
    if outcome.response is not None and outcome.response.status >= 400:
        return _finish(request, outcome.response, signed_in[1] if signed_in else None)
    if outcome.response is not None:
        response = respond(outcome.response)
    else:
        response = render(request, "oidc/signed_out.html", None)
    response.delete_cookie(SESSION_COOKIE)
    return response
