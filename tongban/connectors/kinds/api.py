"""API connector: POST the event as signed JSON to the department's endpoint."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tongban.connectors import signing
from tongban.connectors.kinds import DeliveryError, Outgoing
from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage
from tongban.kit import http

# The department refused the content itself: retrying the same message cannot succeed.
_PERMANENT = {400, 401, 403, 404, 410, 413, 422}


class ApiTransport:
    def __init__(self, client: httpx.Client | None = None) -> None:
        # The process's shared client unless one is given; the dispatcher calls outside any
        # transaction.
        self._client = client or http.client()

    def deliver(
        self, system: DepartmentSystem, connector: Connector, batch: list[Outgoing]
    ) -> dict[int, DeliveryError | None]:
        outcome: dict[int, DeliveryError | None] = {}
        for item in batch:
            try:
                self._post(system, connector, item.message, item.body)
                outcome[item.message.id] = None
            except DeliveryError as exc:
                outcome[item.message.id] = exc
        return outcome

    def _post(
        self,
        system: DepartmentSystem,
        connector: Connector,
        message: OutboxMessage,
        body: dict[str, Any],
    ) -> None:
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            signing.EVENT_HEADER: message.event_type,
            signing.IDEMPOTENCY_HEADER: message.idempotency_key,
            signing.SYSTEM_HEADER: system.code,
            **signing.signed_headers(system.secret, raw),
        }
        try:
            response = self._client.post(
                str(connector.config["url"]),
                content=raw,
                headers=headers,
                timeout=float(connector.config.get("timeout_seconds", 10)),
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        # 409: the department already has this message (a retry after a lost answer).
        if response.is_success or response.status_code == 409:
            return
        detail = f"HTTP {response.status_code}: {response.text[:300]}"
        raise DeliveryError(detail, permanent=response.status_code in _PERMANENT)
