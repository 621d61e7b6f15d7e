"""Data exchange pages for officials: the resource catalog, asking for data, deciding on
requests, who uses the department's data, and usage figures."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.exchange import files
from tongban.exchange import service as exchange
from tongban.exchange.schemas import SharingRequestIn, UsageDays
from tongban.kit.i18n import translate
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _error(request: Request, exc: TongbanError | None) -> str | None:
    return translate(exc.message, locale(request), **exc.params) if exc else None


@router.get("/exchange", response_class=HTMLResponse)
def catalog(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    text: str | None = None,
    department: str | None = None,
) -> Response:
    resources = exchange.search(session, subject, text=text or None, department=department or None)
    return render(
        request,
        "exchange/catalog.html",
        subject,
        resources=[exchange.describe(session, subject, r) for r in resources],
        text=text or "",
        department=department or "",
    )


def _resource_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    code: str,
    *,
    error: TongbanError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    resource = exchange.get_resource(session, subject, code)
    return render(
        request,
        "exchange/resource.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/exchange/resources/{code}",
        resource=exchange.describe(session, subject, resource),
        systems=exchange.my_systems(session, subject),
        values=values or {},
        error=_error(request, error),
    )


@router.get("/exchange/resources/{code}", response_class=HTMLResponse)
def resource(code: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _resource_page(request, session, subject, code)


@router.post("/exchange/resources/{code}/request")
def ask(
    code: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    values: dict[str, Any] = {
        "system": str(form.get("system") or ""),
        "items": [str(v) for v in form.getlist("items")],
        "purpose": str(form.get("purpose") or "").strip(),
        "purpose_text": str(form.get("purpose_text") or "").strip(),
        "legal_basis": str(form.get("legal_basis") or "").strip(),
        "days": str(form.get("days") or "30"),
    }
    try:
        try:
            body = SharingRequestIn.model_validate({**values, "resource": code})
        except ValueError:
            raise InvalidInput(
                "Choose the system and the items, and give the purpose (a code such as "
                "housing_subsidy_review), its description, the legal basis and the days."
            ) from None
        made = exchange.request_sharing(session, subject, body)
    except TongbanError as exc:
        return _resource_page(request, session, subject, code, error=exc, values=values)
    return RedirectResponse(f"/exchange/requests#request-{made.id}", status_code=303)


@router.get("/exchange/requests", response_class=HTMLResponse)
def requests(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _requests_page(request, session, subject)


def _requests_page(
    request: Request, session: SessionDep, subject: PageUser, error: TongbanError | None = None
) -> Response:
    return render(
        request,
        "exchange/requests.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path="/exchange/requests",
        made=exchange.list_requests(session, subject, side="requester"),
        received=exchange.list_requests(session, subject, side="provider"),
        error=_error(request, error),
    )


@router.post("/exchange/requests/{request_id}/decision")
def decide(
    request_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    approve = form.get("decision") == "approve"
    try:
        exchange.decide_request(
            session,
            subject,
            request_id,
            approve=approve,
            items=[str(v) for v in form.getlist("items")] if approve else None,
            reason=str(form.get("reason") or ""),
        )
    except TongbanError as exc:
        return _requests_page(request, session, subject, exc)
    return RedirectResponse(f"/exchange/requests#request-{request_id}", status_code=303)


@router.get("/exchange/provided", response_class=HTMLResponse)
def provided(
    request: Request, session: SessionDep, subject: PageUser, days: UsageDays = 14
) -> Response:
    figures = exchange.usage(session, subject, days=days)
    return render(
        request,
        "exchange/provided.html",
        subject,
        grants=exchange.provided_grants(session, subject),
        usage=figures,
        days=days,
    )


@router.post("/exchange/grants/{grant_id}/revoke")
def revoke(grant_id: RowId, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    exchange.revoke_grant(session, subject, grant_id, reason=str(form.get("reason") or ""))
    return RedirectResponse("/exchange/provided", status_code=303)


@router.get("/exchange/register", response_class=HTMLResponse)
def register_page(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(request, "exchange/register.html", subject, report=None, error=None)


@router.post("/exchange/register")
def register(
    request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    upload = form.get("file")
    report, error = None, None
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose a YAML or CSV file.", field="file")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in (".yaml", ".yml", ".csv"):
            raise InvalidInput("Choose a YAML or CSV file.", field="file")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"resources{suffix}"
            path.write_bytes(upload.file.read(5 * 1024 * 1024))
            report = exchange.register_resources(session, subject, files.read(path))
    except TongbanError as exc:
        error = exc
    return render(
        request,
        "exchange/register.html",
        subject,
        status_code=error.status_code if error else 200,
        report=report,
        error=_error(request, error),
    )
