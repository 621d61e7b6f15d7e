"""Authenticating a department system's signed request (the third kind of subject, besides
people by token and pages by cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tongban.connectors import lookup, signing
from tongban.connectors import service as connectors_service
from tongban.connectors.models import DepartmentSystem
from tongban.errors import Unauthenticated
from tongban.identity.oidc import service as oidc_service
from tongban.kit import ratelimit
from tongban.web.deps import SessionDep
from tongban.web.ratelimit import client_address


async def raw_body(request: Request) -> bytes:
    return await request.body()


_machine_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="clientCredentials",
    description="Access token from POST /oidc/token with grant_type=client_credentials",
)


def system_required(
    request: Request,
    session: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_machine_bearer)],
) -> DepartmentSystem:
    """A department system: by its client-credentials token (scope ``connectors``) from the
    identity provider, or by the request signed with its shared secret."""
    if credentials is not None:
        system = _system_for_token(session, credentials.credentials, scope="connectors")
        if system is None:
            raise Unauthenticated("The access token is not a department system's.")
        return system
    system = connectors_service.system_for_request(
        session, request.headers.get(signing.SYSTEM_HEADER)
    )
    if system is None or not signing.verify_request(system.secret, request.headers, body):
        # One message for unknown system and bad signature: probing learns nothing.
        raise Unauthenticated("The request is not signed by a registered department system.")
    return system


CurrentDepartmentSystem = Annotated[DepartmentSystem, Depends(system_required)]


def _system_for_token(session: SessionDep, token: str, *, scope: str) -> DepartmentSystem | None:
    account = oidc_service.machine_account_for_token(session, token, scope=scope)
    return lookup.system_of_account(session, account.id) if account is not None else None


def exchange_client_required(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_machine_bearer)],
) -> DepartmentSystem:
    """A department system calling the data exchange with its client-credentials token; its
    calls are limited per system, and calls without a valid token per address."""
    address = client_address(request)
    ratelimit.check("gateway_auth_failure", address)
    system = (
        _system_for_token(session, credentials.credentials, scope="exchange")
        if credentials is not None
        else None
    )
    if system is None:
        ratelimit.count("gateway_auth_failure", address)
        raise Unauthenticated(
            "Call the exchange with an access token from the client credentials grant."
        )
    ratelimit.hit("gateway_system", str(system.id))
    return system


ExchangeClient = Annotated[DepartmentSystem, Depends(exchange_client_required)]
