"""Admission control: a process serves a bounded number of requests at once, and answers the
rest 503 with ``Retry-After`` at once, instead of queueing them until they time out.

Requests are admitted by lane, counted in the process (each web process decides for itself, so
nothing is shared and nothing waits on a shared counter):

- *sign-in* (the routes that hash a password) has its own small allowance,
  ``TONGBAN_MAX_SIGN_IN_IN_FLIGHT``: a sign-in flood fills it and is refused, while every other
  route is still admitted (the hashing itself is bounded again by ``credentials.HashingPool``);
- *signed-in* work (a bearer token or a session cookie: officials' queues and actions, an
  applicant's own application) may use all of ``TONGBAN_MAX_IN_FLIGHT``;
- *anonymous* browsing may use all but ``TONGBAN_ADMISSION_RESERVED_SHARE`` of it, so when the
  process is full, what is left goes to those at work.

Whether a credential is valid is the route's business: a forged cookie buys only a place in
the queue, never an answer. Health checks, metrics and static files are never refused.

A pure ASGI middleware: it decides before anything is read or parsed, and costs no thread.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tongban.config import get_settings
from tongban.errors import Overloaded, TongbanError
from tongban.web import metrics

# Never refused: a load balancer must always learn how a process is, and static files cost
# nothing (and are cached by browsers and proxies).
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")
SIGN_IN_PATHS = frozenset({"/api/v1/session", "/login", "/login/code", "/login/enrol"})
_CREDENTIAL_COOKIE = b"tongban_session="


class Lane(enum.StrEnum):
    SIGN_IN = "sign_in"
    SIGNED_IN = "signed_in"
    ANONYMOUS = "anonymous"


def lane_of(scope: Scope) -> Lane:
    if scope["method"] == "POST" and scope["path"] in SIGN_IN_PATHS:
        return Lane.SIGN_IN
    headers = Headers(scope=scope)
    if headers.get("authorization") or _CREDENTIAL_COOKIE in headers.get("cookie", "").encode():
        return Lane.SIGNED_IN
    return Lane.ANONYMOUS


class Admission:
    def __init__(
        self,
        app: ASGIApp,
        render: Callable[[Request, TongbanError], Response],
        max_in_flight: int | None = None,
    ) -> None:
        self.app = app
        self.render = render
        settings = get_settings()
        self.limit = max_in_flight or settings.max_in_flight
        self.anonymous_limit = max(1, int(self.limit * (1 - settings.admission_reserved_share)))
        self.sign_in_limit = settings.max_sign_in_in_flight
        self.retry_after = settings.admission_retry_after_seconds
        # One event loop per process: plain counters, no lock.
        self.in_flight = 0
        self.signing_in = 0

    def admits(self, lane: Lane) -> bool:
        if lane is Lane.SIGN_IN:
            return self.signing_in < self.sign_in_limit and self.in_flight < self.limit
        if lane is Lane.ANONYMOUS:
            return self.in_flight < self.anonymous_limit
        return self.in_flight < self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        lane = lane_of(scope)
        if not self.admits(lane):
            metrics.SHED.labels(lane=lane.value).inc()
            error = Overloaded(
                "The service is very busy; please try again in a moment.",
                retry_after=self.retry_after,
            )
            await self.render(Request(scope), error)(scope, receive, send)
            return
        self.in_flight += 1
        self.signing_in += lane is Lane.SIGN_IN
        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.signing_in -= lane is Lane.SIGN_IN
            metrics.IN_FLIGHT.dec()
