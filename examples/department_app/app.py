"""A department's own application that signs people in through tongban (a relying party).

It knows nothing of tongban's accounts: it uses Authlib's standard OpenID Connect client, which
reads tongban's discovery document, sends people to its authorization endpoint (code flow with
PKCE and a nonce), verifies the id_token against the published JWKS, fetches the claims its
scopes allow from userinfo, and signs out through RP-initiated logout, which ends the one
sign-on everywhere.

Register it with tongban first (the printed client_id and secret go into the environment)::

    tongban oidc clients create "Market supervision licensing" --department SAMR \\
        --redirect-uri http://127.0.0.1:8001/callback \\
        --post-logout-redirect-uri http://127.0.0.1:8001/signed-out --scope profile --scope phone

    TONGBAN_ISSUER=http://127.0.0.1:8000 DEPT_CLIENT_ID=... DEPT_CLIENT_SECRET=... \\
        .venv/bin/python -m examples.department_app
"""

from __future__ import annotations

import html
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

SCOPE = "openid profile phone"
_SIGN_IN = '<p><a href="/login" data-testid="sign-in">Sign in with tongban</a></p>'


@dataclass
class SignIn:
    """What the department keeps about one person's sign-in (server-side, not in a cookie)."""

    token: dict[str, Any]
    id_claims: dict[str, Any]
    userinfo: dict[str, Any]


@dataclass
class Store:
    sign_ins: dict[str, SignIn] = field(default_factory=dict)


def create_app(
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    base_url: str,
    scope: str = SCOPE,
    secret_key: str | None = None,
) -> FastAPI:
    """``base_url`` is where this application is reached (its callback is ``/callback``)."""
    app = FastAPI(title="Department application (tongban relying party)")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key or secrets.token_urlsafe(32),
        session_cookie="department_app_session",
        same_site="lax",
    )
    oauth = OAuth()
    oauth.register(
        "tongban",
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_id=client_id,
        client_secret=client_secret,
        client_kwargs={"scope": scope, "code_challenge_method": "S256"},
    )
    store = Store()
    app.state.store = store
    base_url = base_url.rstrip("/")

    def current(request: Request) -> SignIn | None:
        return store.sign_ins.get(request.session.get("sid", ""))

    @app.get("/")
    async def home(request: Request) -> Response:
        sign_in = current(request)
        if sign_in is None:
            return _page("Department application", _SIGN_IN)
        body = (
            f"<p>Signed in as <b data-testid='name'>"
            f"{html.escape(str(sign_in.userinfo.get('name', '')))}</b></p>"
            "<h2>id_token</h2>"
            + _table(sign_in.id_claims, "id-token")
            + "<h2>userinfo</h2>"
            + _table(sign_in.userinfo, "userinfo")
            + '<p><a href="/logout">Sign out</a></p>'
        )
        return _page("Department application", body)

    @app.get("/login")
    async def login(request: Request) -> Response:
        client = oauth.create_client("tongban")
        response: Response = await client.authorize_redirect(request, f"{base_url}/callback")
        return response

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        client = oauth.create_client("tongban")
        try:
            # Exchanges the code (with the PKCE verifier) and verifies the id_token: signature
            # against the JWKS, issuer, audience, expiry and nonce.
            token = await client.authorize_access_token(request)
            userinfo = await client.userinfo(token=token)
        except OAuthError as exc:
            return _page("Sign-in failed", f"<p>{html.escape(str(exc))}</p>", 400)
        sid = secrets.token_urlsafe(16)
        store.sign_ins[sid] = SignIn(
            token=dict(token), id_claims=dict(token["userinfo"]), userinfo=dict(userinfo)
        )
        request.session["sid"] = sid
        return RedirectResponse("/", status_code=303)

    @app.get("/logout")
    async def logout(request: Request) -> Response:
        sign_in = store.sign_ins.pop(request.session.pop("sid", ""), None)
        client = oauth.create_client("tongban")
        response: Response = await client.logout_redirect(
            request,
            post_logout_redirect_uri=f"{base_url}/signed-out",
            id_token_hint=sign_in.token.get("id_token") if sign_in else None,
        )
        return response

    @app.get("/signed-out")
    async def signed_out(request: Request) -> Response:
        client = oauth.create_client("tongban")
        try:
            await client.validate_logout_response(request)
        except OAuthError as exc:
            return _page("Sign-out not confirmed", f"<p>{html.escape(str(exc))}</p>", 400)
        return _page("Signed out", "<p data-testid='signed-out'>You are signed out.</p>")

    return app


def _table(claims: dict[str, Any], testid: str) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td data-claim='{html.escape(key)}'>"
        f"{html.escape(str(value))}</td></tr>"
        for key, value in sorted(claims.items())
    )
    return f"<table data-testid='{testid}'>{rows}</table>"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def from_env() -> FastAPI:
    return create_app(
        issuer=os.environ.get("TONGBAN_ISSUER", "http://127.0.0.1:8000"),
        client_id=os.environ["DEPT_CLIENT_ID"],
        client_secret=os.environ.get("DEPT_CLIENT_SECRET"),
        base_url=os.environ.get("DEPT_BASE_URL", "http://127.0.0.1:8001"),
    )
