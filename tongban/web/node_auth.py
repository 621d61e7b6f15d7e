"""Authenticating a federation node's signed message (a subject besides people and department
systems): the sender's signature, checked against the registry, and its time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tongban.federation import service as federation_service
from tongban.federation.messages import Received
from tongban.federation.models import Node
from tongban.web.deps import SessionDep
from tongban.web.system_auth import raw_body


@dataclass(frozen=True)
class SignedByNode:
    node: Node
    message: Received


def node_required(
    request: Request, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]
) -> SignedByNode:
    node, message = federation_service.authenticate_message(session, request.headers, body)
    return SignedByNode(node, message)


CurrentNode = Annotated[SignedByNode, Depends(node_required)]
