"""Proactive service pages: a person's offers (/me/offers) and the administrator's runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.db.types import RowId
from tongban.errors import TongbanError
from tongban.kit.i18n import translate
from tongban.proactive import service
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _offers_page(
    request: Request, session: SessionDep, subject: PageUser, error: TongbanError | None = None
) -> Response:
    return render(
        request,
        "proactive/offers.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/me/offers",
        offers=service.my_offers(session, subject),
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/me/offers", response_class=HTMLResponse)
def offers(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _offers_page(request, session, subject)


@router.post("/me/offers/{offer_id}/accept")
def accept(
    offer_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        taken = service.accept(session, subject, offer_id)
    except TongbanError as exc:
        return _offers_page(request, session, subject, exc)
    if taken.application is None:
        rule = next(v.rule for v in service.my_offers(session, subject) if v.offer.id == offer_id)
        bundle = rule.spec.offer.bundle if rule is not None else None
        return RedirectResponse(f"/bundles/{bundle}" if bundle else "/bundles", status_code=303)
    return RedirectResponse(
        f"/applications/{taken.application.number}?from_offer=1", status_code=303
    )


@router.post("/me/offers/{offer_id}/decline")
def decline(
    offer_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.decline(session, subject, offer_id)
    except TongbanError as exc:
        return _offers_page(request, session, subject, exc)
    return RedirectResponse("/me/offers", status_code=303)


def _runs_page(
    request: Request, session: SessionDep, subject: PageUser, error: TongbanError | None = None
) -> Response:
    return render(
        request,
        "proactive/runs.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/admin/proactive",
        runs=service.list_runs(session, subject),
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/admin/proactive", response_class=HTMLResponse)
def runs(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _runs_page(request, session, subject)


@router.post("/admin/proactive/runs/{run_id}/confirm")
def confirm(
    run_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.confirm(session, subject, run_id)
    except TongbanError as exc:
        return _runs_page(request, session, subject, exc)
    return RedirectResponse("/admin/proactive", status_code=303)
