"""Authenticating a department system's signed request (the third kind of subject, besides
people by token and pages by cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tongban.connectors import service as connectors_service
from tongban.connectors import signing
from tongban.connectors.models import DepartmentSystem
from tongban.errors import Unauthenticated
from tongban.web.deps import SessionDep


async def raw_body(request: Request) -> bytes:
    return await request.body()


def system_required(
    request: Request, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]
) -> DepartmentSystem:
    system = connectors_service.system_for_request(
        session, request.headers.get(signing.SYSTEM_HEADER)
    )
    if system is None or not signing.verify_request(system.secret, request.headers, body):
        # One message for unknown system and bad signature: probing learns nothing.
        raise Unauthenticated("The request is not signed by a registered department system.")
    return system


CurrentDepartmentSystem = Annotated[DepartmentSystem, Depends(system_required)]
