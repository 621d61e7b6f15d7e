"""Every route either requires a signed-in subject or is declared public (notify-api's
test_all_routes_have_authentication): a route cannot be added without choosing its auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from tests.architecture.routes import api_routes
from tongban.web.deps import PUBLIC_ROUTES, api_required, page_required
from tongban.web.node_auth import node_required
from tongban.web.system_auth import exchange_client_required, system_required

REQUIRED: set[Callable[..., Any]] = {
    api_required,
    page_required,
    system_required,
    exchange_client_required,
    node_required,
}


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def test_every_route_requires_a_subject_or_is_public(app: FastAPI) -> None:
    undeclared = []
    for route in api_routes(app):
        requires_subject = any(call in REQUIRED for call in _calls(route.dependant))
        if not requires_subject and route.path not in PUBLIC_ROUTES:
            undeclared.append(f"{sorted(route.methods)} {route.path}")
    assert undeclared == [], "routes without a subject dependency and not public"


def test_every_public_path_has_a_route_open_to_all(app: FastAPI) -> None:
    """A path is declared public for a route that takes no subject; another method on the same
    path may still require one (POST /api/v1/session signs in, DELETE signs out)."""
    open_paths = {
        route.path
        for route in api_routes(app)
        if not any(call in REQUIRED for call in _calls(route.dependant))
    }
    assert sorted(PUBLIC_ROUTES - open_paths) == []
