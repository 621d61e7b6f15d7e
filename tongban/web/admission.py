"""Admission control: a process serves a bounded number of requests at once, and answers the
rest 503 with ``Retry-After`` at once, instead of queueing them until they time out.

Requests are admitted by lane, counted in the process (each web process decides for itself, so
nothing is shared and nothing waits on a shared counter):

- *sign-in* (the routes that hash a password) has its own small allowance,
  ``TONGBAN_MAX_SIGN_IN_IN_FLIGHT``, apart from the others': a sign-in flood fills it and is
  refused, while every other route is still admitted (the hashing itself is bounded again by
  ``credentials.HashingPool``, in threads and in the share of the time it may take);
- *signed-in* work (a bearer token or a session cookie: officials' queues and actions, an
  applicant's own application) may use all of ``TONGBAN_MAX_IN_FLIGHT``;
- *anonymous* browsing may use all but ``TONGBAN_ADMISSION_RESERVED_SHARE`` of it, so when the
  process is full, what is left goes to those at work.

A request that finds its lane full waits in a short queue, signed-in work first, for at most
``TONGBAN_ADMISSION_QUEUE_SECONDS``: a burst is served a moment later instead of refused, and a
request that would wait longer is answered 503 then, never served late (a deadline on the wait,
as CoDel bounds a packet's time in a queue). At most ``max_in_flight`` wait at once; past that a
request is refused at once, costing nothing but its answer.

Behind a proxy that stamps each request with the time it took it (``X-Request-Start:
t=<seconds>``, nginx's ``t=${msec}``) and with ``TONGBAN_ADMISSION_TRUST_REQUEST_START``, the
deadline counts from that stamp: a request that already waited that long in front of the
process (in the proxy, the listen backlog, the event loop of a process catching up) is answered
503 at once, the queue CoDel measures being the whole one. Off by default: it needs the proxy's
clock and this machine's to agree to within a small part of the deadline.

Whether a credential is valid is the route's business: a forged cookie buys only a place in
the queue, never an answer. Health checks, metrics and static files are never refused.

A pure ASGI middleware: it decides before anything is read or parsed, and costs no thread.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
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
        self.queue_seconds = settings.admission_queue_seconds
        self.trust_request_start = settings.admission_trust_request_start
        self.retry_after = settings.admission_retry_after_seconds
        # One event loop per process: plain counters, no lock. ``in_flight`` counts the
        # requests of the other lanes; sign-ins are counted apart and never take their room.
        self.in_flight = 0
        self.signing_in = 0
        # Requests waiting for a slot, by lane; a waiter's future is given True with the slot
        # (the slot passes to it without being freed), or False at its deadline.
        self.waiting: dict[Lane, deque[asyncio.Future[bool]]] = {
            Lane.SIGNED_IN: deque(),
            Lane.ANONYMOUS: deque(),
        }
        self.waiters = 0

    def admits(self, lane: Lane) -> bool:
        if lane is Lane.SIGN_IN:
            return self.signing_in < self.sign_in_limit
        if lane is Lane.ANONYMOUS:
            return self.in_flight < self.anonymous_limit
        return self.in_flight < self.limit

    async def _enter(self, lane: Lane, allowance: float) -> bool:
        """Whether the request may go in (its slot taken), at once or after waiting for a slot
        at most ``allowance`` seconds."""
        if allowance < 0:
            return False  # it waited in front of the process past the deadline already
        if lane is Lane.SIGN_IN:
            if not self.admits(lane):
                return False
            self.signing_in += 1
            return True
        queue = self.waiting[lane]
        while queue and queue[0].done():  # past their deadline
            queue.popleft()
        # Nobody passes those of its lane already waiting: a slot freed meanwhile is theirs.
        if self.admits(lane) and not queue:
            self.in_flight += 1
            return True
        if allowance <= 0 or self.waiters >= self.limit:
            return False
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        queue.append(turn)
        self.waiters += 1
        deadline = loop.call_later(allowance, _settle, turn, False)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result():
                self._leave(lane)  # the slot came with the cancellation: pass it on
            raise
        finally:
            deadline.cancel()
            self.waiters -= 1

    def _leave(self, lane: Lane) -> None:
        if lane is Lane.SIGN_IN:
            self.signing_in -= 1
            return
        self.in_flight -= 1
        # The freed slot goes to the first waiter it fits: signed-in work before browsing.
        for waiting_lane in (Lane.SIGNED_IN, Lane.ANONYMOUS):
            queue = self.waiting[waiting_lane]
            while queue and self.admits(waiting_lane):
                turn = queue.popleft()
                if not turn.done():
                    self.in_flight += 1
                    turn.set_result(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        lane = lane_of(scope)
        allowance = self.queue_seconds
        if self.trust_request_start:
            allowance -= waited_in_front(scope)
        if not await self._enter(lane, allowance):
            metrics.SHED.labels(lane=lane.value).inc()
            error = Overloaded(
                "The service is very busy; please try again in a moment.",
                retry_after=self.retry_after,
            )
            await self.render(Request(scope), error)(scope, receive, send)
            return
        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self._leave(lane)
            metrics.IN_FLIGHT.dec()


def waited_in_front(scope: Scope) -> float:
    """Seconds since the proxy took the request (its ``X-Request-Start``), 0 if not stamped."""
    for name, value in scope["headers"]:
        if name == b"x-request-start":
            try:
                stamp = float(value.removeprefix(b"t="))
            except ValueError:
                return 0.0
            # nginx sends seconds (t=${msec}); others milliseconds or microseconds.
            while stamp > 1e11:
                stamp /= 1000
            return max(0.0, time.time() - stamp)
    return 0.0


def _settle(turn: asyncio.Future[bool], admitted: bool) -> None:
    if not turn.done():
        turn.set_result(admitted)
