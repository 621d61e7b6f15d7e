"""Catalog API: the public service guide."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import DepartmentRead, ItemRead, ItemSummary
from tongban.web.deps import ApiOptionalSubject, SessionDep, public

router = APIRouter(tags=["catalog"])


@router.get(public("/api/v1/departments"), response_model=list[DepartmentRead])
def list_departments(session: SessionDep, subject: ApiOptionalSubject) -> object:
    return catalog_service.list_departments(session, subject)


@router.get(public("/api/v1/items"), response_model=list[ItemSummary])
def search_items(
    session: SessionDep,
    subject: ApiOptionalSubject,
    q: str | None = Query(default=None, max_length=100, description="Words in code, name, summary"),
    department: str | None = Query(default=None, description="Department code, e.g. SAMR"),
    audience: Literal["person", "company"] | None = None,
    online: bool = False,
) -> object:
    return catalog_service.search(
        session, subject, text=q, department=department, audience=audience, online_only=online
    )


@router.get(
    public("/api/v1/items/{code}"),
    response_model=ItemRead,
    responses={404: {"description": "No such item"}},
)
def get_item(code: str, session: SessionDep, subject: ApiOptionalSubject) -> object:
    return catalog_service.get_item(session, subject, code)
