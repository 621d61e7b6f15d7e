"""Driving the code flow over real HTTP, as a browser and a relying party would."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import PASSWORD

# Nothing listens here: the flow stops at the redirect and reads the code from its Location.
REDIRECT_URI = "http://127.0.0.1:9/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/signed-out"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class Registered:
    client_id: str
    secret: str | None
    scopes: list[str]
    redirect_uri: str = REDIRECT_URI
    post_logout_uri: str = POST_LOGOUT_URI

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.client_id, self.secret) if self.secret else None


@dataclass
class Request:
    """One authorization request: its parameters and the secrets the client keeps."""

    client: Registered
    scope: str = "openid profile"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    verifier: str | None = field(default_factory=lambda: secrets.token_urlsafe(48))
    method: str = "S256"
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
        }
        if self.verifier:
            params["code_challenge"] = challenge(self.verifier)
            params["code_challenge_method"] = self.method
        return {**params, **self.extra}


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def sign_in(
    browser: httpx.Client, provider: str, username: str, next_path: str = ""
) -> httpx.Response:
    """Sign in at the portal's own login page, as a person would (hidden fields included)."""
    page = browser.get(f"{provider}/login", params={"next": next_path} if next_path else None)
    form = dict(_HIDDEN.findall(page.text))
    form.update(username=username, password=PASSWORD)
    if next_path:
        form["next"] = next_path
    response = browser.post(f"{provider}/login", data=form)
    assert response.status_code == 303, response.text[:500]
    return response


def authorize(browser: httpx.Client, provider: str, request: Request) -> httpx.Response:
    return browser.get(f"{provider}/oidc/authorize", params=request.params())


def code_for(
    browser: httpx.Client, provider: str, request: Request, username: str | None = None
) -> str:
    """Run the browser's part: authorize, sign in if sent to, come back, take the code."""
    response = authorize(browser, provider, request)
    if response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login":
        assert username, "not signed in and no one to sign in as"
        next_path = query(response.headers["location"])["next"]
        back = sign_in(browser, provider, username, next_path)
        assert back.headers["location"] == next_path
        response = browser.get(f"{provider}{next_path}")
    assert response.status_code == 302, response.text[:500]
    location = response.headers["location"]
    assert location.startswith(request.client.redirect_uri + "?"), location
    params = query(location)
    assert params.get("state") == request.state
    assert "code" in params, params
    return params["code"]


def exchange(
    provider: str,
    request: Request,
    code: str,
    *,
    verifier: str | None = None,
    redirect_uri: str | None = None,
    auth: str = "basic",
) -> httpx.Response:
    client = request.client
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or client.redirect_uri,
    }
    if verifier or request.verifier:
        data["code_verifier"] = verifier or request.verifier or ""
    return token_request(provider, client, data, auth=auth)


def token_request(
    provider: str, client: Registered, data: dict[str, str], *, auth: str = "basic"
) -> httpx.Response:
    if client.secret and auth == "basic":
        return httpx.post(f"{provider}/oidc/token", data=data, auth=client.auth)
    data = {**data, "client_id": client.client_id}
    if client.secret and auth == "post":
        data["client_secret"] = client.secret
    return httpx.post(f"{provider}/oidc/token", data=data)


def refresh(provider: str, client: Registered, refresh_token: str) -> httpx.Response:
    return token_request(
        provider, client, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def tokens(
    browser: httpx.Client, provider: str, request: Request, username: str | None = None
) -> dict[str, Any]:
    code = code_for(browser, provider, request, username)
    response = exchange(provider, request, code)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def userinfo(provider: str, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{provider}/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )


def key_set(provider: str) -> KeySet:
    return KeySet.import_key_set(httpx.get(f"{provider}/oidc/jwks").json())


def verify_id_token(provider: str, id_token: str, client: Registered) -> dict[str, Any]:
    """Verify as a relying party must: signature by a key in the JWKS, issuer, audience, expiry."""
    token = jwt.decode(id_token, key_set(provider), algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider},
        aud={"essential": True, "value": client.client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def url(provider: str, path: str, **params: str) -> str:
    return f"{provider}{path}?{urlencode(params)}"
