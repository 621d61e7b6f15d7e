"""The relying-party side of OpenID Connect against the parent node's provider: discovery,
the authorization URL (code flow with PKCE and a nonce, built with Authlib), the code
exchange, the ID token check (joserfc) and the userinfo call. Plain protocol, no database; the
calls go through the shared client (``kit.http``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tongban.federation.errors import UpstreamRefused
from tongban.kit import http

SCOPE = "openid profile id_number"
# The only algorithm our providers sign with (identity.oidc.keys.ALG); anything else, "none"
# above all, is refused rather than negotiated.
ALGORITHMS = ["RS256"]
# Clocks of two government data centres: a minute apart at most.
LEEWAY_SECONDS = 60
TIMEOUT = 10.0


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Identity:
    """Who the parent says signed in, after every check."""

    sub: str
    id_number: str
    name: str
    amr: list[str]
    subject_type: str


def discover(issuer: str, client: httpx.Client | None = None) -> Provider:
    """The parent's metadata; its issuer must be the address the signed registry gives it,
    or a look-alike provider could vouch for people."""
    try:
        response = (client or http.client()).get(
            issuer + "/.well-known/openid-configuration", timeout=TIMEOUT
        )
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamRefused(
            "The parent platform's sign-on cannot be reached; try again later or sign in here."
        ) from exc
    if data.get("issuer") != issuer:
        raise UpstreamRefused("The parent platform's sign-on names another issuer.")
    try:
        return Provider(
            issuer=issuer,
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            userinfo_endpoint=str(data["userinfo_endpoint"]),
            jwks_uri=str(data["jwks_uri"]),
        )
    except KeyError as exc:
        raise UpstreamRefused("The parent platform's sign-on metadata is incomplete.") from exc


def authorization_url(
    provider: Provider,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    locale: str | None = None,
) -> str:
    extra: dict[str, str] = {"nonce": nonce}
    if locale:
        extra["ui_locales"] = locale
    url = prepare_grant_uri(
        provider.authorization_endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=SCOPE,
        state=state,
        code_challenge=create_s256_code_challenge(code_verifier),
        code_challenge_method="S256",
        **extra,
    )
    return str(url)


def exchange_code(
    provider: Provider,
    *,
    client_id: str,
    secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """The tokens for a code (the PKCE verifier proves we asked for it), authenticated with
    client_secret_basic (RFC 6749 2.3.1: both parts form-encoded first)."""
    basic = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    try:
        response = http.client().post(
            provider.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            headers={
                "Authorization": "Basic " + base64.b64encode(basic.encode()).decode(),
                "Accept": "application/json",
            },
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        token = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamRefused("The parent platform did not accept the sign-in.") from exc
    if not isinstance(token, dict) or "error" in token:
        raise UpstreamRefused("The parent platform did not accept the sign-in.")
    return token


def verify_id_token(
    provider: Provider, id_token: str, *, client_id: str, nonce: str, jwks: dict[str, Any]
) -> dict[str, Any]:
    """The ID token's claims if the parent signed it (a key of its JWKS), for us (audience),
    for this sign-in (nonce) and it is current; UpstreamRefused otherwise."""
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)  # type: ignore[arg-type]
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise UpstreamRefused("The parent platform's ID token is not valid here.") from exc
    claims = dict(token.claims)
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise UpstreamRefused("The parent platform's ID token is not valid here.")
    return claims


def fetch_jwks(provider: Provider) -> dict[str, Any]:
    try:
        response = http.client().get(provider.jwks_uri, timeout=TIMEOUT)
        response.raise_for_status()
        return dict(response.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamRefused("The parent platform's signing keys cannot be fetched.") from exc


def userinfo(provider: Provider, access_token: str) -> dict[str, Any]:
    try:
        response = http.client().get(
            provider.userinfo_endpoint,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return dict(response.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamRefused("The parent platform did not say who signed in.") from exc


def identity(id_claims: dict[str, Any], info: dict[str, Any]) -> Identity:
    """The person from the verified ID token and the userinfo answer, which must be about the
    same subject (OIDC Core 5.3.2)."""
    if info.get("sub") != id_claims["sub"]:
        raise UpstreamRefused("The parent platform's answers are about different people.")
    id_number = info.get("id_number")
    if not isinstance(id_number, str) or not id_number:
        raise UpstreamRefused("The parent platform did not give the resident ID number.")
    amr = id_claims.get("amr") or info.get("amr") or []
    return Identity(
        sub=str(id_claims["sub"]),
        id_number=id_number,
        name=str(info.get("name") or ""),
        amr=[str(a) for a in amr] if isinstance(amr, list) else [],
        subject_type=str(info.get("subject_type") or id_claims.get("subject_type") or ""),
    )
