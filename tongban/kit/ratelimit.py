"""Rate limits per client: how many requests a client address, an account, a calling system or
a target number may make in a moving window, counted by the ``limits`` library.

Each limit has a name; its rate is the setting ``limit_<name>`` in ``limits``' notation
("10/minute", several joined by ";"). Counts live in Redis when ``TONGBAN_REDIS_URL`` is set
(shared by every web process), else in this process (the embedded default runs one). A limit
used up raises ``RateLimited`` with the seconds until the next request is allowed; the web
layer answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache
from typing import NoReturn

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tongban.config import get_settings
from tongban.errors import RateLimited
from tongban.kit.i18n import N_

log = logging.getLogger(__name__)

MESSAGE = N_("Too many requests; please try again in {seconds} seconds.")


@lru_cache
def _limiter(url: str | None, prefix: str) -> MovingWindowRateLimiter:
    if url is None:
        return MovingWindowRateLimiter(storage_from_string("memory://"))
    # Short timeouts: a slow Redis must not hold every request up.
    storage = storage_from_string(
        url,
        key_prefix=prefix,
        wrap_exceptions=True,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )
    return MovingWindowRateLimiter(storage)


@lru_cache
def _items(rate: str) -> list[RateLimitItem]:
    return parse_many(rate)


def reset() -> None:
    """Forget the limiter, so it is made again from the settings (tests change them)."""
    _limiter.cache_clear()


def _setup(name: str) -> tuple[MovingWindowRateLimiter, list[RateLimitItem]]:
    settings = get_settings()
    rate = getattr(settings, f"limit_{name}")
    return _limiter(settings.redis_url, settings.rate_limit_prefix), _items(rate)


def _refuse(limiter: MovingWindowRateLimiter, item: RateLimitItem, name: str, key: str) -> NoReturn:
    reset_at = limiter.get_window_stats(item, name, key).reset_time
    seconds = max(1, math.ceil(reset_at - time.time()))
    raise RateLimited(MESSAGE, retry_after=seconds, seconds=seconds)


def _apply(name: str, key: str, *, counting: bool, refusing: bool) -> bool:
    limiter, items = _setup(name)
    ok = True
    try:
        for item in items:
            ok = (
                limiter.hit(item, name, key) if counting else limiter.test(item, name, key)
            ) and ok
            if refusing and not ok:
                _refuse(limiter, item, name, key)
    except StorageError:
        # Fail open: the store being down must not stop the platform; the per-account
        # sign-in lock still holds.
        log.exception("rate limit store unavailable; %s let through", name)
        return True
    return ok


def hit(name: str, key: str) -> None:
    """Count a request of ``key`` (an address, an account, ...) against limit ``name``; raise
    ``RateLimited`` if it is over (an over-limit request is not counted)."""
    _apply(name, key, counting=True, refusing=True)


def check(name: str, key: str) -> None:
    """Raise ``RateLimited`` if ``key`` has used up limit ``name``, without counting this
    request (for limits that count only failures: ``count`` them after one)."""
    _apply(name, key, counting=False, refusing=True)


def count(name: str, key: str) -> None:
    """Count a failure of ``key`` against limit ``name`` (``check`` refuses once it is over)."""
    _apply(name, key, counting=True, refusing=False)


def allowed(name: str, key: str) -> bool:
    """Count a request of ``key`` against limit ``name`` and tell whether it is within it, for
    callers that must answer alike either way (they quietly skip the work instead)."""
    return _apply(name, key, counting=True, refusing=False)
