"""The message log: evidence of each message that crossed the boundary, checkable later.

Each entry keeps the envelope, the signature, the key it was checked against and the body's hash;
the body sits inline when small and by its hash in ``bodies`` when large. ``check`` re-verifies
one entry from what is stored (as X-Road's message log verifier does), so an edited envelope,
body or signature shows.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.federation import bodies, messages
from tongban.federation.messages import Envelope
from tongban.federation.models import Direction, LoggedMessage
from tongban.kit.clock import utcnow
from tongban.security.errors import KeyInvalid


def write(
    session: Session,
    *,
    direction: Direction,
    envelope: Envelope,
    suite: str,
    body: bytes,
    digest: str,
    signature: bytes,
    signer_key: str,
) -> LoggedMessage:
    inline = len(body) <= get_settings().federation_inline_body_bytes
    if not inline:
        bodies.store(digest, body)
    entry = LoggedMessage(
        direction=direction,
        message_id=envelope.message_id,
        sender=envelope.sender,
        recipient=envelope.recipient,
        message_type=envelope.message_type,
        sent_at=envelope.sent_at,
        nonce=envelope.nonce,
        suite=suite,
        body_hash=digest,
        body_size=len(body),
        body=body.decode("utf-8") if inline else None,
        signature=base64.b64encode(signature).decode(),
        signer_key=signer_key,
        logged_at=utcnow(),
    )
    session.add(entry)
    return entry


def body_of(entry: LoggedMessage) -> bytes | None:
    if entry.body is not None:
        return entry.body.encode("utf-8")
    return bodies.read(entry.body_hash)


def check(entry: LoggedMessage) -> str | None:
    """What is wrong with a log entry, or None if its signature and body still hold."""
    envelope = Envelope(
        entry.message_id,
        entry.sender,
        entry.recipient,
        entry.message_type,
        entry.sent_at,
        entry.nonce,
    )
    try:
        signature = base64.b64decode(entry.signature, validate=True)
        good = messages.verify_signature(
            entry.suite, bytes.fromhex(entry.signer_key), envelope, entry.body_hash, signature
        )
    except (binascii.Error, ValueError, KeyInvalid):
        good = False
    if not good:
        return "signature does not match the envelope"
    body = body_of(entry)
    if body is None:
        return "body missing"
    if len(body) != entry.body_size or messages.body_hash(entry.suite, body) != entry.body_hash:
        return "body does not match its hash"
    return None
