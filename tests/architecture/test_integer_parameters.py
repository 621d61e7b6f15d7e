"""Every integer a request carries (path, query, header, cookie, and the fields of a JSON body)
has a lower and an upper bound, so a huge one is refused as invalid input (422) and never
overflows in the database (a 500): ``db.types.RowId`` for ids, ``web.deps.Page`` for pages."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from tests.architecture.routes import api_routes
from tongban.db.types import RowId


def _bounded(metadata: list[Any]) -> bool:
    low = any(
        getattr(m, "ge", None) is not None or getattr(m, "gt", None) is not None for m in metadata
    )
    high = any(
        getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None for m in metadata
    )
    return low and high


def _unbounded_in_type(hint: Any, metadata: list[Any], where: str) -> Iterator[str]:
    """Integers in a type, with the constraints that apply to it (``Annotated`` adds some)."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        inner, *extra = typing.get_args(hint)
        for info in extra:
            metadata = [*metadata, *getattr(info, "metadata", [info])]
        yield from _unbounded_in_type(inner, metadata, where)
    elif hint is int:
        if not _bounded(metadata):
            yield where
    elif isinstance(hint, type) and issubclass(hint, BaseModel):
        for name, field in hint.model_fields.items():
            yield from _unbounded_in_type(field.annotation, field.metadata, f"{where}.{name}")
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            yield from _unbounded_in_type(arg, metadata, where)
    elif origin is not None:  # list[...], dict[str, ...]: the constraints are the items' own
        for arg in typing.get_args(hint):
            yield from _unbounded_in_type(arg, [], f"{where}[]")


def unbounded_integers(routes: Iterable[APIRoute]) -> list[str]:
    found: list[str] = []

    def walk(dependant: Dependant, route: str) -> None:
        params = (
            dependant.path_params
            + dependant.query_params
            + dependant.header_params
            + dependant.cookie_params
            + dependant.body_params
        )
        for param in params:
            where = f"{route} {param.name}"
            found.extend(
                _unbounded_in_type(param.field_info.annotation, param.field_info.metadata, where)
            )
        for sub in dependant.dependencies:
            walk(sub, route)

    for route in routes:
        walk(route.dependant, f"{sorted(route.methods)} {route.path}")
    return sorted(set(found))


def test_every_integer_parameter_is_bounded(app: FastAPI) -> None:
    assert unbounded_integers(api_routes(app)) == []


class _ToyBody(BaseModel):
    count: int
    levels: dict[str, int]
    fine: Annotated[int, Field(ge=0, le=9)]


def test_the_check_sees_each_kind_of_unbounded_integer() -> None:
    toy = FastAPI()

    @toy.get("/things/{thing_id}")
    def read(thing_id: int, page: int = 1, low: Annotated[int, Query(ge=1)] = 1) -> None: ...

    @toy.post("/things")
    def write(body: _ToyBody, ok: RowId, maybe: int | None = None) -> None: ...

    assert unbounded_integers(r for r in toy.routes if isinstance(r, APIRoute)) == [
        "['GET'] /things/{thing_id} low",
        "['GET'] /things/{thing_id} page",
        "['GET'] /things/{thing_id} thing_id",
        "['POST'] /things body.count",
        "['POST'] /things body.levels[]",
        "['POST'] /things maybe",
    ]
