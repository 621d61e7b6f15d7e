"""Applicant pages: apply, fill the form, upload materials, submit, follow progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tongban.applications import service
from tongban.applications.states import Action
from tongban.errors import TongbanError
from tongban.identity.models import Account
from tongban.kit.i18n import translate
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELD_PREFIX = "f_"


def form_values(form: FormData) -> dict[str, Any]:
    """Form fields are posted as ``f_<name>`` so they never collide with csrf or buttons."""
    return {
        key[len(FIELD_PREFIX) :]: value
        for key, value in form.items()
        if key.startswith(FIELD_PREFIX) and isinstance(value, str)
    }


def _error_text(request: Request, exc: TongbanError) -> str:
    return translate(exc.message, locale(request), **exc.params)


def _edit_page(
    request: Request,
    session: Session,
    subject: Account,
    number: str,
    *,
    error: TongbanError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    application = service.get(session, subject, number)
    return render(
        request,
        "applications/edit.html",
        subject,
        status_code=error.status_code if error else 200,
        application=application,
        fields=service.field_specs(application.item),
        values=values if values is not None else application.form_data,
        missing=service.missing(application),
        error=_error_text(request, error) if error else None,
        error_field=error.field if error else None,
    )


@router.post("/items/{code}/apply")
def apply(code: str, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    application = service.start(session, subject, item_code=code)
    return RedirectResponse(f"/applications/{application.number}/edit", status_code=303)


@router.get("/applications", response_class=HTMLResponse)
def my_applications(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return render(
        request,
        "applications/list.html",
        subject,
        applications=service.list_mine(session, subject),
        service=service,
    )


@router.get("/applications/{number}/edit", response_class=HTMLResponse)
def edit(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _edit_page(request, session, subject, number)


@router.post("/applications/{number}/edit")
def save(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    values = form_values(form)
    intent = form.get("intent")
    try:
        service.update_form(session, subject, number, values)
        if intent == "submit":
            service.act(session, subject, number, Action.SUBMIT)
            return RedirectResponse(f"/applications/{number}?submitted=1", status_code=303)
    except TongbanError as exc:
        # Nothing was written by the failed step; show the form again with what was typed.
        return _edit_page(request, session, subject, number, error=exc, values=values)
    return RedirectResponse(f"/applications/{number}/edit?saved=1", status_code=303)


@router.post("/applications/{number}/materials")
def upload(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    upload = form.get("file")
    requirement = form.get("requirement_code")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise TongbanError("Please choose a file to upload.", field="file")
        service.add_material(
            session,
            subject,
            number,
            requirement_code=str(requirement),
            filename=upload.filename,
            stream=upload.file,
        )
    except TongbanError as exc:
        return _edit_page(request, session, subject, number, error=exc)
    return RedirectResponse(f"/applications/{number}/edit#materials", status_code=303)


@router.post("/applications/{number}/materials/{material_id}/delete")
def remove(
    number: str, material_id: int, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    service.remove_material(session, subject, number, material_id)
    return RedirectResponse(f"/applications/{number}/edit#materials", status_code=303)


@router.post("/applications/{number}/withdraw")
def withdraw(number: str, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    service.act(session, subject, number, Action.WITHDRAW)
    return RedirectResponse(f"/applications/{number}", status_code=303)


@router.get("/applications/{number}", response_class=HTMLResponse)
def detail(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    application = service.get(session, subject, number)
    return render(
        request,
        "applications/detail.html",
        subject,
        application=application,
        limit=service.time_limit(application),
        fields=service.field_specs(application.item),
        actions=service.next_actions(subject, application),
        submitted=request.query_params.get("submitted") == "1",
    )


@router.get("/applications/{number}/receipt", response_class=HTMLResponse)
def receipt(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    application = service.get(session, subject, number)
    return render(
        request,
        "applications/receipt.html",
        subject,
        application=application,
        limit=service.time_limit(application),
    )


@router.get("/applications/{number}/materials/{material_id}")
def download(number: str, material_id: int, session: SessionDep, subject: PageUser) -> Response:
    material, path = service.open_material(session, subject, number, material_id)
    return FileResponse(path, media_type=material.content_type, filename=material.filename)
