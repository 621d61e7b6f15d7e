"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): one sign-out for everyone.

Ending the portal session ends the one sign-on: every access and refresh token issued under it
is revoked at the same moment, so no relying party can go on using the person's tokens. With a
valid ``id_token_hint`` for the person signed in, logout happens at once; without one (or for
someone else, or one that cannot be validated) the person is asked first, so a link on another
site cannot sign them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error

from tongban.identity import service as identity_service
from tongban.identity.models import Account, WebSession
from tongban.identity.oidc import auditing, claims, repository
from tongban.identity.oidc.server import HttpRequest, HttpResponse, Provider
from tongban.kit.clock import utcnow

PATH = "/oidc/logout"


@dataclass
class Outcome:
    # A redirect to the client's post_logout_redirect_uri, or an error (status 400).
    response: HttpResponse | None = None
    # Ask the person before signing them out; the client's name, if known.
    confirm: bool = False
    client_name: str | None = None
    params: list[tuple[str, str]] | None = None
    # Where the person goes once signed out (a registered post_logout_redirect_uri), if anywhere.
    redirect_uri: str | None = None


def logout(
    provider: Provider,
    http: HttpRequest,
    signed_in: tuple[WebSession, Account] | None,
    cookie_token: str | None,
    *,
    confirmed: bool,
) -> Outcome:
    request = provider.create_oauth2_request(http)
    try:
        validated = provider.validate_endpoint_request("end_session", request)
    except OAuth2Error as error:
        return Outcome(response=provider.handle_error_response(request, error))
    client = validated.client
    asked_uri = request.payload.data.get("post_logout_redirect_uri")
    if asked_uri and validated.redirect_uri is None:
        # Logged out all the same, but never sent to an address the client did not register.
        provider.record_refusal(
            request,
            InvalidRequestError(
                "post_logout_redirect_uri is not registered for this client, "
                "or came without an id_token_hint."
            ),
            actor=signed_in[1] if signed_in else None,
        )
    if signed_in is not None:
        web_session, account = signed_in
        if not confirmed and _hinted_account(provider, validated.id_token_claims) != account.id:
            source = http.form if http.method == "POST" else http.query
            return Outcome(
                confirm=True,
                client_name=client.row.name if client is not None else None,
                params=[(k, v) for k, v in source if k not in ("csrf", "confirm")],
                redirect_uri=validated.redirect_uri,
            )
        _end(provider, web_session, account, cookie_token, client_id=_client_id(client))
    return Outcome(response=provider.create_endpoint_response("end_session", validated))


def _client_id(client: Any) -> str:
    return str(client.get_client_id()) if client is not None else "-"


def _hinted_account(provider: Provider, id_token_claims: dict[str, Any] | None) -> int | None:
    if not id_token_claims:
        return None
    sub, aud = id_token_claims.get("sub"), id_token_claims.get("aud")
    if not isinstance(sub, str) or not isinstance(aud, str):
        return None
    return claims.account_for_sub(provider.db, sub, aud)


def _end(
    provider: Provider,
    web_session: WebSession,
    account: Account,
    cookie_token: str | None,
    *,
    client_id: str,
) -> None:
    db = provider.db
    revoked = repository.revoke_session_tokens(db, web_session.id, utcnow())
    if cookie_token:
        identity_service.close_session(db, cookie_token)
    auditing.event(db, "signed_out", client_id=client_id, actor=account, tokens_revoked=revoked)
