"""Every API route of the app, wherever it is included.

FastAPI (0.16x) keeps an included router as one lazy ``_IncludedRouter`` entry in
``app.routes``, so walking ``app.routes`` for ``APIRoute`` sees only the few routes declared on
the app itself; architecture tests that did so checked almost nothing. This walks into included
routers too, and the tests assert a floor on the count so an empty walk fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

# Far fewer than the app has; a walk that finds less has lost the included routers again.
AT_LEAST = 250


def api_routes(app: FastAPI) -> list[APIRoute]:
    found = list(_walk(app.routes))
    assert len(found) >= AT_LEAST, f"only {len(found)} routes found: the walk is broken"
    return found


def _walk(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _walk(included.routes)
