"""The authorization endpoint: check the request, then sign in, ask, or issue the code.

A request is checked before anything else, so a wrong client or redirect URI is refused at once
(and never redirected to: RFC 6749 4.1.2.1). A person who is not signed in is sent to the
portal's sign-in page and comes back here; that portal session is the one sign-on every client
shares. A department's own system gets the code straight away; a third-party client only after
the person agreed to what its scopes release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError

from tongban.identity.models import Account, WebSession
from tongban.identity.oidc import claims
from tongban.identity.oidc.claims import Scope
from tongban.identity.oidc.clients import Client
from tongban.identity.oidc.server import HttpRequest, HttpResponse, Provider
from tongban.identity.oidc.signins import SignedIn
from tongban.kit.clock import utcnow

PATH = "/oidc/authorize"
# Parameters of the authorization request a consent form carries back (and nothing else).
_FORM_ONLY = {"csrf", "decision"}


@dataclass(frozen=True)
class Consent:
    client_name: str
    first_party: bool
    scopes: list[Scope]
    # The authorization request's own parameters, posted back with the person's answer.
    params: list[tuple[str, str]]
    # Where the answer is sent on to (for the page's form-action policy).
    redirect_origin: str


@dataclass
class Outcome:
    """Exactly one is set: the response to send, where to sign in first, or what to ask."""

    response: HttpResponse | None = None
    login_next: str | None = None
    consent: Consent | None = None


def authorize(
    provider: Provider,
    http: HttpRequest,
    signed_in: tuple[WebSession, Account] | None,
    *,
    decision: bool | None = None,
) -> Outcome:
    """``decision`` is None on the first visit, True/False when the consent form is answered."""
    request = provider.create_oauth2_request(http)
    client_id = request.payload.client_id or ""
    user = (
        SignedIn(account=signed_in[1], web_session=signed_in[0], client_id=client_id)
        if signed_in
        else None
    )
    try:
        grant = provider.get_consent_grant(request, end_user=user)
        if user is None:
            return Outcome(login_next=_come_back(http, drop_login=False))
        prompts = (request.payload.data.get("prompt") or "").split()
        max_age = request.payload.data.get("max_age")
        if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
            raise InvalidRequestError(
                "max_age must be a number of seconds.", redirect_uri=grant.redirect_uri
            )
        if "login" in prompts or _too_old(max_age, user, utcnow()):
            return Outcome(login_next=_come_back(http, drop_login=True))
        client: Client = request.client
        if decision is None and (not client.first_party or "consent" in prompts):
            if "none" in prompts:
                raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
            return Outcome(consent=_consent(client, request.scope, http, grant.redirect_uri))
    except OAuth2Error as error:
        if error.state is None:
            error.state = request.payload.state
        return Outcome(response=provider.handle_error_response(request, error))
    return Outcome(
        response=provider.create_authorization_response(
            request, grant_user=user if decision is not False else None, grant=grant
        )
    )


def _too_old(max_age: str | None, user: SignedIn, now: datetime) -> bool:
    """OIDC Core 3.1.2.1: a sign-in older than ``max_age`` seconds must be done again."""
    if max_age is None:
        return False
    return (now - user.web_session.created_at).total_seconds() > int(max_age)


def _come_back(http: HttpRequest, *, drop_login: bool) -> str:
    """This same request, to return to after signing in. When it asked for a fresh sign-in
    (prompt=login, max_age), that sign-in is what comes next: asking again would loop."""
    params: list[tuple[str, str]] = []
    for key, value in _request_params(http):
        if key == "max_age" and drop_login:
            continue
        if key == "prompt" and drop_login:
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        params.append((key, value))
    return f"{PATH}?{urlencode(params)}"


def _request_params(http: HttpRequest) -> list[tuple[str, str]]:
    """The authorization request's own parameters, from the query or (POST) the form."""
    source = http.form if http.method == "POST" else http.query
    return [(k, v) for k, v in source if k not in _FORM_ONLY]


def _consent(client: Client, scope: str, http: HttpRequest, redirect_uri: str) -> Consent:
    parts = urlsplit(redirect_uri)
    return Consent(
        client_name=client.row.name,
        first_party=client.first_party,
        scopes=claims.consent_lines(scope),
        params=_request_params(http),
        redirect_origin=f"{parts.scheme}://{parts.netloc}",
    )
