"""The portal's public pages: home, search, the service guide. Made from the catalog in memory;
a visitor who is not signed in gets a page kept with it, validated by ETag (``web.caching``)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tongban.applications import sourcing
from tongban.catalog import service as catalog_service
from tongban.kit.i18n import LocalText
from tongban.licences import types as licence_types
from tongban.security.principals import ANONYMOUS
from tongban.web import caching
from tongban.web.deps import PageSubject, SessionDep, public
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get(public("/"), response_class=HTMLResponse)
def home(request: Request, session: SessionDep, subject: PageSubject) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    return caching.page(
        request,
        catalog,
        subject,
        lambda: render(
            request,
            "catalog/home.html",
            subject,
            departments=catalog.departments,
            items=catalog.items,
        ),
    )


@router.get(public("/items"), response_class=HTMLResponse)
def search(
    request: Request,
    session: SessionDep,
    subject: PageSubject,
    q: str | None = Query(default=None, max_length=100),
    department: str | None = Query(default=None, max_length=20),
) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    return caching.page(
        request,
        catalog,
        subject,
        lambda: render(
            request,
            "catalog/search.html",
            subject,
            items=catalog.search(text=q, department=department or None),
            q=q or "",
            department=department or "",
            departments=catalog.departments,
        ),
    )


@router.get(public("/items/{code}"), response_class=HTMLResponse)
def guide(code: str, request: Request, session: SessionDep, subject: PageSubject) -> Response:
    catalog = catalog_service.published(session, subject or ANONYMOUS)
    item = catalog_service.published_item(session, subject or ANONYMOUS, code)
    return caching.page(
        request,
        catalog,
        subject,
        lambda: render(
            request,
            "catalog/guide.html",
            subject,
            item=item,
            # What replaces each upload (免提交), told before the person starts.
            sources=sourcing.guide(
                item.materials,
                {d.code: LocalText(d.name_zh, d.name_en) for d in catalog.departments},
                licence_types.names(),
            ),
        ),
    )
