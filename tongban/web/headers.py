"""The security headers every answer carries, errors and refusals included."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.web.csp import content_security_policy

# Pages load only their own scripts and styles; the API docs need inline script and a worker.
_CSP = content_security_policy()
_DOCS_PREFIXES = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds the headers to every HTTP answer that does not set its own.

    It must wrap the whole application, Starlette's own outer layers included: those answer
    unhandled errors (ServerErrorMiddleware, the 500 page) and too large bodies outside every
    middleware added with ``add_middleware``, so a header set there is missing from exactly the
    answers an attacker provokes. ``web.app.create_app`` puts it outermost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(path, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add(path: str, headers: MutableHeaders) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith(_DOCS_PREFIXES):
        headers.setdefault("Content-Security-Policy", _CSP)
        headers.setdefault("X-Frame-Options", "DENY")
    # API answers carry personal data and tokens: no cache (a shared proxy, the browser's disk)
    # keeps them. JSON elsewhere too (the sign-on protocol, health checks) unless it says
    # otherwise (the provider's public keys and metadata may be cached).
    media = headers.get("content-type", "")
    if path.startswith("/api/") or media.startswith("application/json"):
        headers.setdefault("Cache-Control", "no-store")
