"""The process's one HTTP client for calls to other systems (department lookups and connectors,
other nodes, the parent node's sign-on, the SMS gateway): pooled, so calls to the same system
reuse their connections; made when first needed and closed when the process ends.

Callers pass their own timeout where they have one. No call is made inside a database
transaction: ``db.session.release`` ends it first.
"""

from __future__ import annotations

import atexit
import os
import threading

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Per process: enough for the dispatcher's and the lookups' concurrent calls, few idle ones.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)

_client: httpx.Client | None = None
_pid = 0
_lock = threading.Lock()


def client() -> httpx.Client:
    """The shared client (a new one in a forked child: connections are not shared across
    processes)."""
    global _client, _pid
    found = _client
    if found is not None and _pid == os.getpid() and not found.is_closed:
        return found
    with _lock:
        if _client is None or _pid != os.getpid() or _client.is_closed:
            # TLS as every call had before: httpx's defaults (verified, system settings honoured).
            _client = httpx.Client(timeout=TIMEOUT, limits=LIMITS, follow_redirects=False)
            _pid = os.getpid()
        return _client


def close() -> None:
    """Close the shared client's connections (at exit; the next call makes a new one)."""
    global _client
    with _lock:
        if _client is not None and _pid == os.getpid():
            _client.close()
        _client = None


atexit.register(close)
