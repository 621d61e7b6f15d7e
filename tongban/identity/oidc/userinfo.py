"""The userinfo endpoint (OIDC Core 5.3) behind a bearer access token (RFC 6750).

A token is good only while it is unexpired, unrevoked, and the sign-in session it was issued
under lives: after logout, anywhere, every relying party's stored token is refused here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.identity.oidc import auditing, claims, repository, tokens
from tongban.identity.oidc.server import HttpRequest, HttpResponse
from tongban.identity.oidc.signins import resume
from tongban.kit.clock import utcnow

PATH = "/oidc/userinfo"
_UNKNOWN = "The access token is unknown, expired or revoked."
_SESSION_ENDED = "The sign-in session behind this token has ended."
_JSON = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


def _presented(http: HttpRequest) -> list[str]:
    """Every access token the request carries: in the Authorization header (RFC 6750 2.1) or
    the form body of a POST (2.2, what pyoidc sends by default); never the query (2.3), which
    ends up in logs."""
    header = http.headers.get("authorization") or http.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    found = [value.strip()] if scheme.lower() == "bearer" and value.strip() else []
    if http.method == "POST":
        found += [v.strip() for k, v in http.form if k == "access_token" and v.strip()]
    return found


def userinfo(db: Session, http: HttpRequest) -> HttpResponse:
    presented = _presented(http)
    if len(presented) > 1:
        # RFC 6750 2: "Clients MUST NOT use more than one method to transmit the token in
        # each request"; nor one method twice (RFC 6749 3.2's rule for every parameter).
        return _refuse(
            db, http, None, "invalid_request", "Send the access token once, in one way only.", 400
        )
    if not presented:
        # RFC 6750 3.1: no error code when the request carried no token at all.
        auditing.refused(
            db,
            endpoint=PATH,
            error="invalid_request",
            description="no bearer token",
            client_id=None,
            remote=http.remote,
        )
        body = {
            "error": "invalid_request",
            "error_description": "Send the access token as Authorization: Bearer <token>.",
        }
        return HttpResponse(401, body, [*_JSON, _challenge()])
    now = utcnow()
    row = tokens.live_access_token(db, presented[0], now)
    if row is None:
        return _refuse(
            db, http, None, "invalid_token", "The access token is unknown, expired or revoked."
        )
    user = resume(
        db, account_id=row.account_id, session_id=row.session_id, client_id=row.client_id, now=now
    )
    if user is None:
        return _refuse(
            db,
            http,
            row.client_id,
            "invalid_token",
            "The sign-in session behind this token has ended.",
        )
    client = repository.client(db, row.client_id)
    if client is None or not client.active:
        return _refuse(db, http, row.client_id, "invalid_token", "The client has been deactivated.")
    if "openid" not in claims.scope_list(row.scope):
        return _refuse(
            db, http, row.client_id, "insufficient_scope", "The token was not granted openid.", 403
        )
    body = claims.userinfo_claims(db, user.account, user.web_session, row.client_id, row.scope)
    return HttpResponse(200, body, list(_JSON))


def _challenge(error: str | None = None, description: str | None = None) -> tuple[str, str]:
    value = 'Bearer realm="tongban"'
    if error:
        value += f', error="{error}"'
    if description:
        value += f', error_description="{description}"'
    return ("WWW-Authenticate", value)


def _refuse(
    db: Session,
    http: HttpRequest,
    client_id: str | None,
    error: str,
    description: str,
    status: int = 401,
) -> HttpResponse:
    auditing.refused(
        db,
        endpoint=PATH,
        error=error,
        description=description,
        client_id=client_id,
        remote=http.remote,
    )
    return HttpResponse(
        status,
        {"error": error, "error_description": description},
        [*_JSON, _challenge(error, description)],
    )
