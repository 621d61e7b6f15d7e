"""The data sharing exchange across nodes: a department's request for another node's resource,
its system's calls through this node's gateway, and the provider's end of those calls."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tongban.exchange.schemas import GatewayAnswer, GatewayQuery, SharingRequestIn
from tongban.federation.errors import MessageInvalid
from tongban.federation.exchange import service as data_exchange
from tongban.federation.exchange.service import QUERY_PATH
from tongban.federation.schemas import REGION_CODE
from tongban.web.api.exchange import serve_query
from tongban.web.deps import ApiSubject, SessionDep
from tongban.web.node_auth import CurrentNode, signs_answers
from tongban.web.system_auth import ExchangeClient

router = APIRouter(tags=["federation"])


class RemoteRequestIn(SharingRequestIn):
    node: str = Field(pattern=REGION_CODE, description="The node whose resource it is.")


class RemoteRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ref: str
    provider_code: str
    resource: str
    items: list[str]
    purpose: str
    status: str
    granted_items: list[str]
    expires_at: datetime | None
    reason: str


@router.post(
    "/api/v1/federation/exchange/requests", response_model=RemoteRequestRead, status_code=201
)
def request_data(body: RemoteRequestIn, session: SessionDep, subject: ApiSubject) -> object:
    """Ask another node's department for items of its resource, for one of your systems; the
    request travels signed, and its decision comes back here."""
    spec = SharingRequestIn.model_validate(body.model_dump(exclude={"node"}))
    return data_exchange.request_data(session, subject, node=body.node, body=spec)


@router.get("/api/v1/federation/exchange/requests", response_model=list[RemoteRequestRead])
def my_requests(session: SessionDep, subject: ApiSubject) -> object:
    return data_exchange.my_requests(session, subject)


class RemoteQuery(GatewayQuery):
    node: str = Field(pattern=REGION_CODE, description="The node providing the resource.")


@router.post(
    "/api/v1/federation/exchange/call",
    response_model=GatewayAnswer,
    responses={
        401: {"description": "No valid client-credentials token"},
        403: {"description": "The provider's refusal: no_grant, item_not_granted, ..."},
        502: {
            "description": "provider_unavailable: the providing node did not answer; "
            "answer_not_authentic: its answer is not signed by it for this call"
        },
    },
)
def call(
    body: RemoteQuery, request: Request, session: SessionDep, system: ExchangeClient
) -> Response:
    """This node's gateway for another node's resource: the call goes on, signed, to the
    providing node's gateway, which checks the grant and masks and signs its answer; that
    signature is checked here before the answer is passed on. Both nodes audit the call."""
    answer = data_exchange.query_remote(
        session,
        system,
        node=body.node,
        resource=body.resource,
        purpose=body.purpose,
        keys=body.keys,
        items=body.items,
    )
    GatewayAnswer.model_validate(answer.answer)
    # The provider's signed bytes as they are, so they match the hash audited here.
    return Response(answer.body, media_type="application/json")


@router.post(
    signs_answers(QUERY_PATH),
    response_model=GatewayAnswer,
    responses={
        401: {"description": "Unknown sender, forged signature, or a time out of range"},
        403: {"description": "no_grant, grant_expired, grant_revoked, item_not_granted"},
        409: {"description": "A replayed request"},
    },
)
def provide(request: Request, session: SessionDep, signed: CurrentNode) -> GatewayAnswer:
    """A call another node's gateway forwards for one of its systems, run through this node's
    gateway as that system (its grants, its clearance); the answer goes back signed."""
    accepted = data_exchange.accept_call(session, signed.node, message=signed.message)
    try:
        body = GatewayQuery.model_validate(accepted.body)
    except ValidationError:
        raise MessageInvalid("The forwarded call is malformed.") from None
    return serve_query(session, accepted.system, body)
