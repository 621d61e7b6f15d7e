"""Every route that returns a labelled read model (``security.schemas.LabelledRead``: values
under security labels) is tried by an adversarial test (tests/security's read-path tests, and
the gateway's and the counter's masking tests), whose module lists the routes it tries in
``ROUTES_TRIED``. A new route returning labelled values fails here until
an adversary has tried it, so no read path of labelled data goes untested for leaks."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from tests.architecture.routes import api_routes
from tongban.security.schemas import LabelledRead

TESTS = Path(__file__).parents[1]


def _models(annotation: Any, seen: set[type]) -> set[type]:
    """The pydantic models an annotation reaches (through lists, optionals and fields)."""
    found: set[type] = set()
    for argument in typing.get_args(annotation):
        found |= _models(argument, seen)
    is_model = inspect.isclass(annotation) and issubclass(annotation, BaseModel)
    if is_model and annotation not in seen:
        seen.add(annotation)
        found.add(annotation)
        for field in annotation.model_fields.values():
            found |= _models(field.annotation, seen)
    return found


def labelled_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in api_routes(app)
        if route.response_model is not None
        and any(issubclass(m, LabelledRead) for m in _models(route.response_model, set()))
        for method in route.methods
    }


def routes_tried() -> set[tuple[str, str]]:
    tried: set[tuple[str, str]] = set()
    for path in sorted(TESTS.rglob("test_*.py")):
        if "\nROUTES_TRIED = " not in path.read_text(encoding="utf-8"):
            continue
        name = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        tried |= set(importlib.import_module(name).ROUTES_TRIED)
    return tried


def test_every_route_returning_labelled_values_is_tried_by_an_adversary(app: FastAPI) -> None:
    labelled = labelled_routes(app)
    assert ("GET", "/api/v1/licences/{number}") in labelled
    assert sorted(labelled - routes_tried()) == []


def test_the_tried_routes_exist(app: FastAPI) -> None:
    """A route renamed or removed is taken off the adversarial list too."""
    assert sorted(routes_tried() - labelled_routes(app)) == []
