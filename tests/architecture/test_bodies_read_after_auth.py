"""FastAPI reads and parses ``Form``/``File`` parameters before any dependency runs, so a route
declaring them spooled a whole upload to disk before it knew who was sending it (issue 18,
item 2). Forms are read by dependencies declared after the subject instead (``PostedForm``,
``UploadedFile``): no route may declare a form parameter."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi import params as fastapi_params

from tests.architecture.routes import api_routes


def test_no_route_parses_a_form_before_its_dependencies(app: FastAPI) -> None:
    offenders = [
        f"{sorted(route.methods)} {route.path}: {field.name}"
        for route in api_routes(app)
        for field in route.dependant.body_params
        if isinstance(field.field_info, fastapi_params.Form)
    ]
    assert offenders == []
