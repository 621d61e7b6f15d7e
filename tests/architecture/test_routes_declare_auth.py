"""Every route either requires a signed-in subject or is declared public (notify-api's
test_all_routes_have_authentication): a route cannot be added without choosing its auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

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
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        requires_subject = any(call in REQUIRED for call in _calls(route.dependant))
        if not requires_subject and route.path not in PUBLIC_ROUTES:
            undeclared.append(f"{sorted(route.methods)} {route.path}")
    assert undeclared == [], "routes without a subject dependency and not public"


def test_public_routes_do_not_also_require_a_subject(app: FastAPI) -> None:
    both = [
        route.path
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.path in PUBLIC_ROUTES
        and any(call in REQUIRED for call in _calls(route.dependant))
    ]
    assert both == []
