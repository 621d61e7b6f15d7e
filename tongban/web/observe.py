"""Every request gets an id, a latency observation and (in JSON logs) an access log line.

The id is the load balancer's ``X-Request-ID`` if it sent a plain one, else a fresh one; it is
answered in ``X-Request-ID``, bound for the request's log lines, and written into the audit
entries and outbox messages the request makes (``kit.request_ids``), so an operator can follow
one request from the proxy's log to the chain and to the department that received its event.
Outermost but for the security headers: a refusal by admission control has an id too.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.kit import request_ids
from tongban.web import metrics

log = logging.getLogger("tongban.access")


class Observe:
    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_ids.new(Headers(scope=scope).get("x-request-id"))
        started = time.perf_counter()
        status = 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with request_ids.bound(request_id):
            try:
                await self.app(scope, receive, answer)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                # The template, never the path: /items/{code}, not one series per item.
                template = getattr(route, "path", None) or "unmatched"
                metrics.REQUESTS.labels(
                    route=template, method=scope["method"], status=str(status)
                ).observe(elapsed)
                metrics.pool_use(self.engine)
                log.info(
                    "%s %s %s %.1f ms",
                    scope["method"],
                    template,
                    status,
                    elapsed * 1000,
                    extra={
                        "method": scope["method"],
                        "route": template,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
