"""Requests to another node answered at once (not queued in the outbox): signed with the node
key like every message (id, time, nonce), so the peer verifies and logs them the same way."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tongban.federation import keys, messages


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
) -> httpx.Response:
    """POST ``body`` to ``url + path``, signed by this node; raises httpx errors unchanged."""
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
    http = client or httpx.Client()
    try:
        return http.post(
            url.rstrip("/") + path,
            content=signed.body,
            headers={"Content-Type": "application/json", **signed.headers()},
            timeout=timeout,
        )
    finally:
        if client is None:
            http.close()
