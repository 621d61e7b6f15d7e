"""The OpenID Connect provider's machine endpoints: discovery, JWKS, token, userinfo, revoke.

Public routes by nature (clients authenticate inside the protocol, with their secret or PKCE),
and their errors follow RFC 6749 5.2 / RFC 6750 3 (``{"error": "invalid_grant",
"error_description": ...}``), not the platform's own error shape: OAuth libraries expect them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from tongban.errors import RateLimited
from tongban.identity.oidc import discovery, keys
from tongban.identity.oidc import userinfo as userinfo_endpoint
from tongban.identity.oidc.server import HttpRequest, HttpResponse, Provider
from tongban.kit import ratelimit
from tongban.web.deps import SessionDep, public
from tongban.web.ratelimit import client_address

router = APIRouter(include_in_schema=False)


async def http_request(request: Request) -> HttpRequest:
    """The request as plain data for the provider (the form read here, where awaiting is fine)."""
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        data = await request.form(max_files=0, max_fields=50)
        form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    return HttpRequest(
        method=request.method,
        path=request.url.path,
        query=list(request.query_params.multi_items()),
        form=form,
        headers=request.headers,
        remote=request.client.host if request.client else None,
    )


OAuthHttp = Annotated[HttpRequest, Depends(http_request)]


def issuer(request: Request) -> str:
    return str(request.app.state.public_url)


def provider(request: Request, session: SessionDep) -> Provider:
    return Provider(session, issuer(request))


ProviderDep = Annotated[Provider, Depends(provider)]


def respond(result: HttpResponse) -> Response:
    headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
    if isinstance(result.body, dict):
        return JSONResponse(result.body, status_code=result.status, headers=headers)
    return Response(result.body or b"", status_code=result.status, headers=headers)


def _json(body: dict[str, Any], cache_seconds: int) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age={cache_seconds}"})


@router.get(public(discovery.WELL_KNOWN))
def openid_configuration(request: Request) -> JSONResponse:
    return _json(discovery.metadata(issuer(request)), 3600)


@router.get(public(discovery.JWKS))
def jwks(session: SessionDep) -> JSONResponse:
    # Short cache: after a rotation, relying parties must see the new key within minutes.
    return _json(keys.jwks(session), 300)


def _client_id(http: HttpRequest) -> str | None:
    """The client_id the call claims (from HTTP Basic or the form), before it is checked."""
    header = http.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            user = base64.b64decode(header[6:], validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(user)[:200]
    return next((v[:200] for k, v in http.form if k == "client_id"), None)


@router.post(public(discovery.TOKEN))
def token(request: Request, http: OAuthHttp, server: ProviderDep) -> Response:
    # Calls per address and per client_id, and failed calls (a wrong secret, code or grant)
    # per address: guessing costs the guesser, not the platform.
    address = client_address(request)
    client = _client_id(http)
    try:
        ratelimit.check("oidc_token_failure", address)
        ratelimit.hit("oidc_token_address", address)
        if client:
            ratelimit.hit("oidc_token_client", client)
    except RateLimited as exc:
        return JSONResponse(
            {"error": exc.code, "error_description": str(exc)},
            status_code=exc.status_code,
            headers=exc.headers(),
        )
    result = server.create_token_response(http)
    if result.status in (400, 401):
        ratelimit.count("oidc_token_failure", address)
    return respond(result)


@router.post(public(discovery.REVOKE))
def revoke(http: OAuthHttp, server: ProviderDep) -> Response:
    return respond(server.create_endpoint_response("revocation", http))


@router.get(public(discovery.USERINFO))
@router.post(discovery.USERINFO)
def userinfo(http: OAuthHttp, session: SessionDep) -> Response:
    return respond(userinfo_endpoint.userinfo(session, http))
