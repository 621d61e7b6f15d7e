"""An SMS gateway adapter for the signed HTTP API style of government SMS platforms (政务短信
平台) and the carriers' cloud SMS services: one POST per message carrying an app key, a
registered template code and its parameters, signed with the app secret.

The request (JSON, UTF-8) is::

    {"appKey": ..., "signName": ..., "templateCode": ..., "phoneNumbers": "138...",
     "templateParams": {"content": "<the message text>"}, "requestId": <idempotency key>}

with the headers ``X-App-Key``, ``X-Timestamp`` (Unix milliseconds), ``X-Nonce`` and
``X-Signature``: hex HMAC (SHA-256, or SM3 where the platform requires the national algorithm)
with the app secret over ``appKey \\n timestamp \\n nonce \\n hex digest of the body``. The
platform answers JSON ``{"code": "0"|"OK", "messageId": ...}`` on success.

The text goes in one template parameter: platforms register a general template (e.g.
``${content}``) for notices whose wording the sender keeps, as ours does in its templates file.
``requestId`` is the outbox's idempotency key, the same on every retry, so a platform that
deduplicates never sends a message twice.

Failures are classified for the outbox: a 4xx answer is permanent (a refused number, a bad
template or signature: sending again cannot help), except 408 and 429 which ask to come back
later; a 5xx answer, a timeout or a connection failure is temporary and retried with backoff; a
2xx answer whose code is not success is permanent (the platform refused the message itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from tongban.kit import http
from tongban.notifications.errors import SendError
from tongban.security.crypto import get_suite

SUCCESS_CODES = frozenset({"0", "OK", "200", "SUCCESS"})
# Client errors that mean "not now" rather than "never".
RETRYABLE_4XX = frozenset({408, 429})
Algorithm = Literal["hmac-sha256", "hmac-sm3"]


@dataclass(frozen=True)
class HttpSmsConfig:
    url: str
    app_key: str
    app_secret: str
    template_code: str
    sign_name: str = ""
    template_param: str = "content"
    algorithm: Algorithm = "hmac-sha256"
    timeout: float = 10.0


def _digest(algorithm: Algorithm, data: bytes) -> str:
    if algorithm == "hmac-sm3":
        return get_suite("sm").hash(data).hex()
    return hashlib.sha256(data).hexdigest()


def signature(
    algorithm: Algorithm, secret: str, app_key: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The request's signature (what the platform recomputes to authenticate the caller)."""
    text = f"{app_key}\n{timestamp}\n{nonce}\n{_digest(algorithm, body)}".encode()
    if algorithm == "hmac-sm3":
        return get_suite("sm").hmac(secret.encode(), text).hex()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


class HttpSmsGateway:
    """An ``SmsGateway`` posting to a signed HTTP SMS API (see the module's description)."""

    def __init__(self, config: HttpSmsConfig, client: httpx.Client | None = None) -> None:
        if not (config.url and config.app_key and config.app_secret and config.template_code):
            raise ValueError(
                "the HTTP SMS gateway needs TONGBAN_SMS_HTTP_URL, TONGBAN_SMS_APP_KEY, "
                "TONGBAN_SMS_APP_SECRET and TONGBAN_SMS_TEMPLATE_CODE"
            )
        self._config = config
        # The process's shared client unless one is given (tests give theirs).
        self._client = client

    def _request(self, phone: str, text: str, idempotency_key: str) -> tuple[bytes, dict[str, str]]:
        config = self._config
        payload: dict[str, Any] = {
            "appKey": config.app_key,
            "signName": config.sign_name,
            "templateCode": config.template_code,
            "phoneNumbers": phone,
            "templateParams": {config.template_param: text},
            "requestId": idempotency_key,
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-App-Key": config.app_key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature-Method": config.algorithm.upper(),
            "X-Signature": signature(
                config.algorithm, config.app_secret, config.app_key, timestamp, nonce, body
            ),
        }
        return body, headers

    def send_sms(self, phone: str, text: str, *, idempotency_key: str) -> str:
        body, headers = self._request(phone, text, idempotency_key)
        try:
            response = (self._client or http.client()).post(
                self._config.url, content=body, headers=headers, timeout=self._config.timeout
            )
        except httpx.TimeoutException as exc:
            raise SendError(f"SMS gateway timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise SendError(f"SMS gateway unreachable: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        answer = _json(response)
        code, message = str(answer.get("code", "")), str(answer.get("message", ""))[:200]
        if status >= 500 or status in RETRYABLE_4XX:
            raise SendError(f"SMS gateway HTTP {status}: {code} {message}".strip())
        if status >= 400:
            raise SendError(f"SMS gateway HTTP {status}: {code} {message}".strip(), permanent=True)
        if code not in SUCCESS_CODES:
            raise SendError(f"SMS gateway refused: {code} {message}".strip(), permanent=True)
        return str(answer.get("messageId") or answer.get("bizId") or idempotency_key)

    def close(self) -> None:
        """Close a client given at construction (the shared one closes at exit)."""
        if self._client is not None:
            self._client.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
