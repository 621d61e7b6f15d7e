"""Signed messages between nodes: what is signed, and how it travels over HTTP.

A message is a body (JSON bytes) plus an envelope: message id, sender, recipient, type, time and
a nonce. The sender signs the canonical envelope text, which includes the body's hash in the
sender's suite (SHA-256 or SM3), so the signature is evidence of the body without holding it.
The envelope travels in ``X-Tongban-Fed-*`` headers, the body as the request body. A retry keeps
the message id and gets a fresh time, nonce and signature.

A request answered at once gets its answer signed the same way, in the same headers on the
response: from the request's recipient back to its sender, with the request's id and nonce and
the type ``<type>.answer``, so the signature holds for that one request and never as a request.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tongban.federation.errors import MessageRefused
from tongban.kit.clock import utcnow
from tongban.security.crypto import get_suite

PATH = "/api/v1/federation/messages"
PREFIX = "X-Tongban-Fed-"
HEADERS = ("Id", "From", "To", "Type", "Time", "Nonce", "Signature")
VERSION = "tongban-federation-v1"
ANSWER = ".answer"


@dataclass(frozen=True)
class Envelope:
    message_id: str
    sender: str
    recipient: str
    message_type: str
    sent_at: datetime
    nonce: str

    def signed_text(self, suite: str, body_hash: str) -> bytes:
        lines = (
            VERSION,
            f"id={self.message_id}",
            f"from={self.sender}",
            f"to={self.recipient}",
            f"type={self.message_type}",
            f"time={format_time(self.sent_at)}",
            f"nonce={self.nonce}",
            f"suite={suite}",
            f"body-hash={body_hash}",
        )
        return "\n".join(lines).encode()


@dataclass(frozen=True)
class SignedMessage:
    envelope: Envelope
    body: bytes
    suite: str
    body_hash: str
    signature: bytes

    def headers(self) -> dict[str, str]:
        e = self.envelope
        values = (
            e.message_id,
            e.sender,
            e.recipient,
            e.message_type,
            format_time(e.sent_at),
            e.nonce,
            base64.b64encode(self.signature).decode(),
        )
        return {PREFIX + name: value for name, value in zip(HEADERS, values, strict=True)}

    def evidence(self) -> dict[str, str]:
        """What proves this message later without holding its body: whoever has the body shows
        it has the hash, and the signature shows who sent that hash in this envelope."""
        e = self.envelope
        return {
            "id": e.message_id,
            "from": e.sender,
            "to": e.recipient,
            "type": e.message_type,
            "time": format_time(e.sent_at),
            "nonce": e.nonce,
            "suite": self.suite,
            "body_hash": self.body_hash,
            "signature": base64.b64encode(self.signature).decode(),
        }


def new_message_id() -> str:
    return str(uuid.uuid4())


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def body_hash(suite: str, body: bytes) -> str:
    return get_suite(suite).hash(body).hex()


def sign(
    *,
    suite: str,
    private_key: bytes,
    message_id: str,
    sender: str,
    recipient: str,
    message_type: str,
    body: bytes,
    now: datetime | None = None,
) -> SignedMessage:
    envelope = Envelope(
        message_id, sender, recipient, message_type, now or utcnow(), secrets.token_hex(16)
    )
    return _signed(suite, private_key, envelope, body)


def _signed(suite: str, private_key: bytes, envelope: Envelope, body: bytes) -> SignedMessage:
    digest = body_hash(suite, body)
    signature = get_suite(suite).sign(private_key, envelope.signed_text(suite, digest))
    return SignedMessage(envelope, body, suite, digest, signature)


def _answer_envelope(request: Envelope, sent_at: datetime) -> Envelope:
    return Envelope(
        request.message_id,
        request.recipient,
        request.sender,
        request.message_type + ANSWER,
        sent_at,
        request.nonce,
    )


def sign_answer(*, suite: str, private_key: bytes, request: Envelope, body: bytes) -> SignedMessage:
    """The answer ``body`` to ``request``, signed by its recipient."""
    return _signed(suite, private_key, _answer_envelope(request, utcnow()), body)


def check_answer(
    *,
    suite: str,
    public_key: bytes,
    request: Envelope,
    headers: Mapping[str, str],
    body: bytes,
) -> SignedMessage | None:
    """The answer to ``request`` if ``headers`` carry its recipient's signature over ``body``
    for that very request; None if unsigned, forged, altered, or another request's answer."""
    try:
        received = from_request(headers, body)
    except MessageRefused:
        return None
    expected = _answer_envelope(request, received.envelope.sent_at)
    if received.envelope != expected:
        return None
    digest = body_hash(suite, body)
    if not verify_signature(suite, public_key, expected, digest, received.signature):
        return None
    return SignedMessage(expected, body, suite, digest, received.signature)


def verify_signature(
    suite: str, public_key: bytes, envelope: Envelope, digest: str, signature: bytes
) -> bool:
    return get_suite(suite).verify(public_key, envelope.signed_text(suite, digest), signature)


@dataclass(frozen=True)
class Received:
    """A request's envelope and signature as sent; nothing about it is checked yet."""

    envelope: Envelope
    signature: bytes
    body: bytes


def from_request(headers: Mapping[str, str], body: bytes) -> Received:
    """The envelope and signature in ``headers`` (a request's, or an answer's)."""
    values = [headers.get(PREFIX + name) for name in HEADERS]
    present = [v for v in values if v]
    if len(present) != len(HEADERS):
        raise MessageRefused("The message is not signed by a node of the federation.")
    message_id, sender, recipient, message_type, sent, nonce, signature = present
    try:
        sent_at = parse_time(sent)
        raw_signature = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise MessageRefused("The message is not signed by a node of the federation.") from None
    if len(message_id) > 36 or len(nonce) > 64 or len(message_type) > 80:
        raise MessageRefused("The message is not signed by a node of the federation.")
    return Received(
        Envelope(message_id, sender, recipient, message_type, sent_at, nonce), raw_signature, body
    )
