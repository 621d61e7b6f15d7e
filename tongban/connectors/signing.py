"""Signed requests between the platform and department systems (both directions).

The signature is HMAC-SHA256 over ``<timestamp>.<body>`` with the system's shared secret, sent as
``X-Tongban-Signature: sha256=<hex>`` with ``X-Tongban-Timestamp``; a receiver refuses requests
whose timestamp is too far off, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Tongban-Signature"
TIMESTAMP_HEADER = "X-Tongban-Timestamp"
IDEMPOTENCY_HEADER = "X-Tongban-Idempotency-Key"
EVENT_HEADER = "X-Tongban-Event"
SYSTEM_HEADER = "X-Tongban-System"
MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify_request(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """``verify`` with the timestamp and signature taken from a request's headers."""
    return verify(secret, headers.get(TIMESTAMP_HEADER), body, headers.get(SIGNATURE_HEADER))


def verify(
    secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
) -> bool:
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
