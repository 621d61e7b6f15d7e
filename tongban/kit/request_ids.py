"""The id of the web request being served, for logs, audit entries and outbox messages.

Set once per request by the web layer (``web.observe``) and read wherever a record is written
on the request's behalf: a context variable, so the request's worker threads see it too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("tongban_request_id", default=None)
# An id a proxy or a client sent is kept only if it is short and plain (it goes into logs).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,32}$")


def current() -> str | None:
    """The id of the request being served, or None outside a request (a worker, the CLI)."""
    return _current.get()


def new(sent: str | None = None) -> str:
    """``sent`` (an ``X-Request-ID`` from the load balancer) if acceptable, else a fresh id."""
    if sent and _ACCEPTABLE.match(sent):
        return sent
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str) -> Iterator[str]:
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)
