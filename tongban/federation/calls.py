"""Requests to another node answered at once (not queued in the outbox): signed with the node
key like every message (id, time, nonce), so the peer verifies and logs them the same way. A
peer that signs its answers too (``Sent.answer_from``) is believed only for what it signed for
that very request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tongban.federation import keys, messages
from tongban.federation.errors import AnswerNotAuthentic
from tongban.federation.models import Node
from tongban.kit import http


@dataclass(frozen=True)
class Answer:
    """A peer's answer, signed by it for the request it answers."""

    status_code: int
    body: bytes
    signed: messages.SignedMessage

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class Sent:
    request: messages.SignedMessage
    response: httpx.Response

    def answer_from(self, peer: Node) -> Answer:
        """The answer, success or refusal, if ``peer`` signed it with its key from the registry
        for this request; ``AnswerNotAuthentic`` otherwise."""
        signed = messages.check_answer(
            suite=peer.suite,
            public_key=bytes.fromhex(peer.public_key),
            request=self.request.envelope,
            headers=self.response.headers,
            body=self.response.content,
        )
        if signed is None:
            raise AnswerNotAuthentic(
                "The answer from node {node} is not signed by it for this call; it was not used.",
                node=peer.code,
            )
        return Answer(self.response.status_code, self.response.content, signed)


def signed_post(
    *,
    sender: str,
    recipient: str,
    url: str,
    path: str,
    message_type: str,
    body: dict[str, Any],
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> Sent:
    """POST ``body`` to ``url + path``, signed by this node; raises httpx errors unchanged.
    With no transaction open (``db.session.release``), through the shared client by default."""
    suite, pair = keys.load_with_suite()
    signed = messages.sign(
        suite=suite,
        private_key=pair.private,
        message_id=messages.new_message_id(),
        sender=sender,
        recipient=recipient,
        message_type=message_type,
        body=json.dumps(body, ensure_ascii=False, sort_keys=True).encode(),
    )
    response = (client or http.client()).post(
        url.rstrip("/") + path,
        content=signed.body,
        headers={"Content-Type": "application/json", **signed.headers()},
        timeout=timeout,
    )
    return Sent(signed, response)
