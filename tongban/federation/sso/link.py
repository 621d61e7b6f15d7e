"""Getting this node's sign-on client from its parent: a request signed with the node key (the
parent knows the key from the registry), answered with the client id and a fresh secret. Run by
``tongban federation run`` until it succeeds, and by ``tongban federation sso link``."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import Engine

from tongban.db.session import unit_of_work
from tongban.federation import calls
from tongban.federation import repository as federation_repository
from tongban.federation.errors import UpstreamRefused
from tongban.federation.sso import repository
from tongban.federation.sso import service as sso_service
from tongban.security.principals import Internal

PATH = "/api/v1/federation/sso/client"
MESSAGE_TYPE = "sso.client_request"


def linked(engine: Engine) -> bool:
    """Whether there is nothing to do: a client held, or no parent to hold one from."""
    with unit_of_work(engine) as session:
        local = federation_repository.local_node(session)
        if local is None or local.parent_code is None:
            return True
        return repository.upstream_client(session, local.parent_code) is not None


def link(engine: Engine, client: httpx.Client | None = None) -> str:
    """Ask the parent for this node's client and keep it; returns its client id."""
    with unit_of_work(engine) as session:
        local = federation_repository.local_node(session)
        parent = (
            federation_repository.node_by_code(session, local.parent_code or "")
            if local is not None
            else None
        )
        if local is None or parent is None or not parent.active:
            raise UpstreamRefused("This node has no parent in the registry to sign in through.")
        sender, recipient, url = local.code, parent.code, parent.url
    try:
        sent = calls.signed_post(
            sender=sender,
            recipient=recipient,
            url=url,
            path=PATH,
            message_type=MESSAGE_TYPE,
            body={},
            client=client,
        )
    except httpx.HTTPError as exc:
        raise UpstreamRefused("The parent platform cannot be reached.") from exc
    # The answer holds a client secret: believed only if the parent signed it for this request.
    answer = sent.answer_from(parent)
    if not answer.is_success:
        detail = answer.body.decode("utf-8", "replace")[:300]
        raise UpstreamRefused("The parent platform refused: {detail}", detail=detail)
    data = json.loads(answer.body)
    with unit_of_work(engine) as session:
        sso_service.save_upstream_client(
            session,
            Internal("keep the parent node's sign-in client"),
            issuer=str(data["issuer"]),
            client_id=str(data["client_id"]),
            secret=str(data["client_secret"]),
        )
    return str(data["client_id"])
