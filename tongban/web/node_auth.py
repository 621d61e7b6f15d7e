"""Authenticating a federation node's signed message (a subject besides people and department
systems): the sender's signature, checked against the registry, and its time; and signing this
node's answers to requests another node sends it to be answered at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


# Paths another node calls and waits on; their answers go back signed.
SIGNED_ANSWERS: set[str] = set()


def signs_answers(path: str) -> str:
    SIGNED_ANSWERS.add(path)
    return path


class AnswerSigning:
    """Signs every answer on a ``signs_answers`` path, success or refusal (a refused signature
    too), by this node for the request it answers, so the caller can tell it came from here
    unaltered and keep the proof. A middleware, so it signs what the error handlers rendered:
    the bytes signed are the bytes sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in SIGNED_ANSWERS:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        answer = bytes(body)
        extra = await run_in_threadpool(_answer_headers, Request(scope), answer)
        headers = [*start["headers"], *((k.lower().encode(), v.encode()) for k, v in extra.items())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def _answer_headers(request: Request, body: bytes) -> dict[str, str]:
    with request.app.state.session_factory() as session:
        signed = federation_service.sign_answer(session, request.headers, body)
    return signed.headers() if signed is not None else {}
