"""The portal's public pages: home, search, the service guide."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tongban.catalog import service as catalog_service
from tongban.web.deps import PageSubject, SessionDep, public
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get(public("/"), response_class=HTMLResponse)
def home(request: Request, session: SessionDep, subject: PageSubject) -> Response:
    departments = catalog_service.list_departments(session, subject)
    items = catalog_service.search(session, subject)
    return render(request, "catalog/home.html", subject, departments=departments, items=items)


@router.get(public("/items"), response_class=HTMLResponse)
def search(
    request: Request,
    session: SessionDep,
    subject: PageSubject,
    q: str | None = Query(default=None, max_length=100),
    department: str | None = Query(default=None, max_length=20),
) -> Response:
    items = catalog_service.search(session, subject, text=q, department=department or None)
    departments = catalog_service.list_departments(session, subject)
    return render(
        request,
        "catalog/search.html",
        subject,
        items=items,
        q=q or "",
        department=department or "",
        departments=departments,
    )


@router.get(public("/items/{code}"), response_class=HTMLResponse)
def guide(code: str, request: Request, session: SessionDep, subject: PageSubject) -> Response:
    item = catalog_service.get_item(session, subject, code)
    return render(request, "catalog/guide.html", subject, item=item)
