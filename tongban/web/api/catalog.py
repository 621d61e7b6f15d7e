"""Catalog API: the public service guide, from the catalog in memory, with ETag and
Last-Modified (``web.caching``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter

from tongban.catalog import service as catalog_service
from tongban.catalog.errors import ItemNotFound
from tongban.catalog.schemas import DepartmentRead, ItemRead, ItemSpec, ItemSummary
from tongban.security.principals import ANONYMOUS
from tongban.web import caching
from tongban.web.deps import ApiOptionalSubject, ApiSubject, SessionDep, public

router = APIRouter(tags=["catalog"])
_DEPARTMENTS = TypeAdapter(Sequence[DepartmentRead])
_SUMMARIES = TypeAdapter(Sequence[ItemSummary])
_ITEM = TypeAdapter(ItemRead)
_CONDITIONAL: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"}
}


@router.get(
    public("/api/v1/departments"), response_model=list[DepartmentRead], responses=_CONDITIONAL
)
def list_departments(
    request: Request, session: SessionDep, subject: ApiOptionalSubject
) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    return caching.json_answer(
        request, catalog, "departments", lambda: _DEPARTMENTS.dump_json(catalog.departments)
    )


@router.get(public("/api/v1/items"), response_model=list[ItemSummary], responses=_CONDITIONAL)
def search_items(
    request: Request,
    session: SessionDep,
    subject: ApiOptionalSubject,
    q: str | None = Query(default=None, max_length=100, description="Words in code, name, summary"),
    department: str | None = Query(default=None, description="Department code, e.g. SAMR"),
    audience: Literal["person", "company"] | None = None,
    online: bool = False,
) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    return caching.json_answer(
        request,
        catalog,
        ("items", q, department, audience, online),
        lambda: _SUMMARIES.dump_json(
            catalog.search(text=q, department=department, audience=audience, online_only=online)
        ),
    )


@router.get(
    public("/api/v1/items/{code}"),
    response_model=ItemRead,
    responses={404: {"description": "No such item"}, **_CONDITIONAL},
)
def get_item(
    code: str, request: Request, session: SessionDep, subject: ApiOptionalSubject
) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    item = catalog_service.published_item(session, subject or ANONYMOUS, code)
    return caching.json_answer(request, catalog, ("item", code), lambda: _ITEM.dump_json(item))


@router.put(
    "/api/v1/items/{code}",
    response_model=ItemRead,
    responses={
        403: {"description": "Not an administrator"},
        404: {"description": "No such department"},
    },
)
def put_item(code: str, body: ItemSpec, session: SessionDep, subject: ApiSubject) -> object:
    """Create or change an item and its guide (administrators); a withdrawn item is published
    again. Every process of the platform serves the change from its next request."""
    return catalog_service.put_item(session, subject, code, body)


@router.delete(
    "/api/v1/items/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "Not an administrator"}, 404: {"description": "No such item"}},
)
def withdraw_item(code: str, session: SessionDep, subject: ApiSubject) -> Response:
    """Take an item out of the published catalog (administrators); it is kept, so the
    applications made under it stay explainable."""
    if not catalog_service.withdraw_item(session, subject, code):
        raise ItemNotFound("No service item has the code {code}.", field="item_code", code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
