"""Federation API: the node's identity and registry (public, signed at the top), signed
messages from other nodes, and the administrators' view of the log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from tongban.errors import NotFound
from tongban.federation import service as federation_service
from tongban.federation.applications import service as cross_region
from tongban.federation.catalog import service as catalog_federation
from tongban.federation.messages import PATH
from tongban.federation.models import Direction, NodeLevel
from tongban.federation.schemas import REGION_CODE, NodeRead, SignedRegistry
from tongban.federation.sso import service as sso_service
from tongban.federation.sso.link import PATH as SSO_CLIENT_PATH
from tongban.federation.witness import service as witness_service
from tongban.federation.witness.service import HELD_PATH as WITNESS_HELD_PATH
from tongban.federation.witness.service import PATH as WITNESS_PATH
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import ApiSubject, SessionDep, public
from tongban.web.limits import MIB, body_limit
from tongban.web.node_auth import CurrentNode, signs_answers

router = APIRouter(tags=["federation"])


class LocalNodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: NodeLevel
    parent_code: str | None
    url: str
    suite: str
    public_key: str
    national_code: str


@router.get(public("/api/v1/federation/node"), response_model=LocalNodeRead)
def this_node(session: SessionDep) -> object:
    """Who this node is: region code, level, parent, suite and public signing key."""
    return federation_service.local_node(session, ANONYMOUS)


@router.get(public("/api/v1/federation/registry"), response_model=SignedRegistry)
def registry(session: SessionDep) -> object:
    """The last good registry this node holds, exactly as the national node signed it."""
    current = federation_service.current_registry(session, ANONYMOUS)
    if current is None:
        raise NotFound("This node holds no registry yet.")
    return SignedRegistry(document=current.document, signature=current.signature)


@router.get(public("/api/v1/federation/nodes"), response_model=list[NodeRead])
def nodes(session: SessionDep) -> object:
    return federation_service.list_nodes(session, ANONYMOUS)


@router.post(
    # A node publishes whole catalogs and registries downstream: more than a form's megabyte.
    body_limit(PATH, 16 * MIB),
    responses={
        401: {"description": "Unknown sender, forged signature, or a time out of range"},
        409: {"description": "A replayed request"},
        422: {"description": "Not a message this node takes"},
    },
)
def receive_message(session: SessionDep, signed: CurrentNode) -> dict[str, Any]:
    """A message from another node, signed by it (X-Tongban-Fed-* headers). A retry of an
    accepted message (same id, fresh nonce) is answered ``duplicate: true`` and not acted on."""
    result = federation_service.receive(session, signed.node, message=signed.message)
    return {"message_id": result.message_id, "duplicate": result.duplicate}


@router.post(
    signs_answers(SSO_CLIENT_PATH),
    responses={
        401: {"description": "Unknown sender, forged signature, or a time out of range"},
        403: {"description": "The sender is not a node directly below this one"},
        409: {"description": "A replayed request"},
    },
)
def sso_client(session: SessionDep, signed: CurrentNode) -> dict[str, str]:
    """A child node's sign-on client at this node's provider, asked for with a signed request:
    its client id and a new secret (the old one stops working), and the issuer to trust."""
    issued = sso_service.register_child(session, signed.node, message=signed.message)
    return {
        "issuer": issued.issuer,
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
    }


@router.post(
    signs_answers(WITNESS_PATH),
    responses={
        401: {"description": "Unknown sender, forged signature, or a time out of range"},
        403: {"description": "The sender is not a node directly below this one"},
        409: {"description": "A replayed request, or a fork or rollback of the sender's log"},
        422: {"description": "A checkpoint malformed, not validly signed, or with a new key"},
    },
)
def witness_checkpoint(session: SessionDep, signed: CurrentNode) -> dict[str, Any]:
    """A child node's signed audit checkpoint, kept here as its witness; the signed answer is
    the child's receipt."""
    held = witness_service.witness(session, signed.node, message=signed.message)
    return {
        "node": held.node_code,
        "size": held.size,
        "head": held.head,
        "witnessed_at": held.received_at.isoformat(),
    }


@router.post(
    signs_answers(WITNESS_HELD_PATH),
    responses={
        401: {"description": "Unknown sender, forged signature, or a time out of range"},
        403: {"description": "The sender is not a node directly below this one"},
        409: {"description": "A replayed request"},
    },
)
def witnessed_checkpoints(session: SessionDep, signed: CurrentNode) -> dict[str, Any]:
    """The checkpoints of the child node asking that this node keeps, smallest first."""
    held = witness_service.held_for(session, signed.node, message=signed.message)
    return {"node": signed.node.code, "checkpoints": [c.to_json() for c in held]}


class LoggedMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    message_id: str
    direction: Direction
    sender: str
    recipient: str
    message_type: str
    sent_at: datetime
    body_hash: str
    body_size: int
    signature: str
    logged_at: datetime


@router.get("/api/v1/federation/log", response_model=list[LoggedMessageRead])
def message_log(session: SessionDep, subject: ApiSubject) -> object:
    return federation_service.message_log(session, subject)


class CatalogHitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    node_code: str
    item_code: str
    origin_code: str
    name_zh: str
    name_en: str
    department_code: str
    promised_days: int
    online: bool
    counters: list[str]


@router.get(public("/api/v1/federation/catalog"), response_model=list[CatalogHitRead])
def search_catalog(session: SessionDep, q: str | None = None) -> object:
    """Items of this node and of every node below it (at the national node: every region's),
    with the node offering each, the node that defined it, and local time limits and counters."""
    return catalog_federation.search(session, ANONYMOUS, text=q)


class ApplyElsewhere(BaseModel):
    """An application to file with another region's node. A counter clerk filing for someone
    names the person (resident ID number and name); a person filing their own leaves them out."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(pattern=REGION_CODE)
    item_code: str = Field(max_length=20)
    form: dict[str, Any] = {}
    id_number: str | None = Field(default=None, max_length=18)
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)


class RemoteApplicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ref: str
    node_code: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    status: str
    number: str | None
    reason: str
    result_number: str | None
    history: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


@router.post(
    "/api/v1/federation/applications", response_model=RemoteApplicationRead, status_code=201
)
def apply_elsewhere(body: ApplyElsewhere, session: SessionDep, subject: ApiSubject) -> object:
    """File an application handled by another region's node (跨省通办); its progress comes back
    here. Counter clerks file for the person in front of them (收件地与办理地分离)."""
    return cross_region.apply_elsewhere(
        session,
        subject,
        node=body.node,
        item_code=body.item_code,
        form=body.form,
        id_number=body.id_number,
        name=body.name,
        phone=body.phone,
    )


@router.get("/api/v1/federation/applications", response_model=list[RemoteApplicationRead])
def my_remote_applications(session: SessionDep, subject: ApiSubject) -> object:
    return cross_region.my_remote_applications(session, subject)
