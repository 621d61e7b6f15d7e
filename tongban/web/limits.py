"""Request body limits, enforced before a route reads the body.

A declared ``Content-Length`` over the route's limit is answered 413 at once, without reading a
byte of the body; a streamed (chunked) body is counted as it arrives and cut off at the limit.
Bodies are 1 MiB unless the route declares more with ``body_limit(path, ...)``, as upload routes
do with ``upload_path``; the handler still enforces the exact limit of what it takes (a
material's ``max_mb``), this cap only stops a client from making the server read (and spool to
disk) more than any upload of the route can be.

A pure ASGI middleware, not ``BaseHTTPMiddleware``: it must see the body before any route or
form parser does, and answer without buffering it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.config import get_settings
from tongban.errors import InvalidInput, TongbanError, TooLarge

MIB = 1024 * 1024
DEFAULT_LIMIT = MIB
# Multipart boundaries, part headers and the few text fields that come with a file.
FORM_OVERHEAD = 64 * 1024

# Path template -> its limit in bytes (a callable reads it from the settings at request time).
_LIMITS: dict[str, int | Callable[[], int]] = {}
_compiled: list[tuple[re.Pattern[str], int | Callable[[], int]]] = []


def body_limit(path: str, limit: int | Callable[[], int]) -> str:
    """Declare that ``path`` (a route template) takes bodies up to ``limit`` bytes."""
    _LIMITS[path] = limit
    _compiled.append((compile_path(path)[0], limit))
    return path


def upload_limit() -> int:
    """The largest file any material may be (``TONGBAN_MAX_UPLOAD_MB``) and its form."""
    return get_settings().max_upload_mb * MIB + FORM_OVERHEAD


def upload_path(path: str) -> str:
    """A route that takes a material file as a multipart form."""
    return body_limit(path, upload_limit)


def limit_for(path: str) -> int:
    for pattern, limit in _compiled:
        if pattern.match(path):
            return limit() if callable(limit) else limit
    return DEFAULT_LIMIT


class _Cut(Exception):
    """Raised into the route when its streamed body passes the limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, render: Callable[[Request, TongbanError], Response]) -> None:
        self.app = app
        # Builds the platform's error answer (JSON, or the error page for a browser).
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(
                    scope, receive, send, InvalidInput("The Content-Length header is not a number.")
                )
                return
            if int(declared) > limit:
                await self._refuse(scope, receive, send, _too_large(limit))
                return
        received = 0
        cut = False
        started = False

        async def counted() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    raise _Cut
            return message

        async def forward(message: Message) -> None:
            nonlocal started
            # Whatever the route made of a body cut short (a parse error) is replaced by the 413.
            if cut and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, forward)
        except Exception:
            if not cut:
                raise
        if cut and not started:
            await self._refuse(scope, receive, send, _too_large(limit))

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: TongbanError
    ) -> None:
        answer = await run_in_threadpool(self.render, Request(scope), error)
        # The rest of the body is never read: the connection cannot carry another request.
        answer.headers["Connection"] = "close"
        await answer(scope, receive, send)


def _too_large(limit: int) -> TooLarge:
    return TooLarge("The request is too large: at most {mb} MB here.", mb=max(1, limit // MIB))
