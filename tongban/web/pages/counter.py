"""The single window's pages for counter clerks, and the printable receipt and notice."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tongban.applications import service as applications_service
from tongban.catalog import service as catalog_service
from tongban.counter import service
from tongban.db.types import MAX_ROW_ID, RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.identity.errors import AccountNotFound
from tongban.identity.models import Account
from tongban.kit.i18n import translate
from tongban.web import responses
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.limits import upload_path
from tongban.web.pages.applications import form_values
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _error(request: Request, exc: TongbanError) -> str:
    return translate(exc.message, locale(request), **exc.params)


@router.get("/counter", response_class=HTMLResponse)
def start(
    request: Request, session: SessionDep, subject: PageUser, id_number: str = ""
) -> Response:
    person, error, originals = None, None, []
    if id_number:
        try:
            person = service.find_person(session, subject, id_number=id_number)
            originals = service.originals_to_check(session, subject, id_number=id_number)
        except TongbanError as exc:
            error = exc
    # Nobody has this (valid) ID number yet: not an error here, the person is registered.
    register = isinstance(error, AccountNotFound)
    return _start_page(
        request,
        session,
        subject,
        id_number=id_number[:18],
        person=person,
        originals=originals,
        error=None if register else error,
        register=register,
        registered=request.query_params.get("registered") == "1",
    )


def _start_page(
    request: Request,
    session: SessionDep,
    subject: Account,
    *,
    id_number: str,
    person: Account | None = None,
    originals: list[Any] | None = None,
    error: TongbanError | None = None,
    register: bool = False,
    registered: bool = False,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "counter/start.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/counter?id_number={id_number}" if id_number else "/counter",
        id_number=id_number,
        person=person,
        originals=originals or [],
        items=[i for i in catalog_service.search(session, subject) if i.offline],
        visits=service.recent_visits(session, subject),
        error=_error(request, error) if error else None,
        error_field=error.field if error else None,
        register=register,
        registered=registered,
        values=values or {},
    )


@router.post("/counter/people")
def register_person(
    request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    values = {k: str(form.get(k) or "").strip() for k in ("name", "id_number", "phone", "email")}
    try:
        person = service.register_person(session, subject, **values)
    except TongbanError as exc:
        # A refused registration (a duplicate ID number too) keeps what the clerk typed.
        return _start_page(
            request,
            session,
            subject,
            id_number=values["id_number"][:18],
            error=exc,
            register=True,
            values=values,
        )
    return RedirectResponse(f"/counter?id_number={person.id_number}&registered=1", status_code=303)


@router.post("/counter/originals")
def check_original(session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    id_number = str(form.get("id_number") or "")
    try:
        material_id = int(str(form.get("material_id") or ""))
    except ValueError:
        material_id = 0
    # Bounded like an id in an address (db.types.RowId): a larger one would overflow the query.
    if not 1 <= material_id <= MAX_ROW_ID:
        raise InvalidInput("Unknown material.", field="material_id")
    service.check_original(
        session, subject, str(form.get("number") or ""), material_id, id_number=id_number
    )
    return RedirectResponse(f"/counter?id_number={quote(id_number)}#originals", status_code=303)


@router.post("/counter/cases")
def open_case(session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    application = service.open_case(
        session,
        subject,
        id_number=str(form.get("id_number") or ""),
        item_code=str(form.get("item_code") or ""),
    )
    return RedirectResponse(f"/counter/cases/{application.number}", status_code=303)


def _case_page(
    request: Request,
    session: SessionDep,
    subject: Account,
    number: str,
    *,
    error: TongbanError | None = None,
) -> Response:
    checked = service.check(session, subject, number)
    application = checked.application
    applicant = applications_service.applicant_name(session, subject, application)
    return render(
        request,
        "counter/case.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/counter/cases/{number}",
        application=application,
        applicant=applicant,
        fields=applications_service.case_fields(application),
        form=applications_service.disclose(session, subject, application),
        gaps=checked.gaps,
        error=_error(request, error) if error else None,
    )


@router.get("/counter/cases/{number}", response_class=HTMLResponse)
def case(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _case_page(request, session, subject, number)


@router.post("/counter/cases/{number}/form")
def save_form(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.save_form(session, subject, number, form_values(form))
    except TongbanError as exc:
        return _case_page(request, session, subject, number, error=exc)
    return RedirectResponse(f"/counter/cases/{number}#materials", status_code=303)


@router.post(upload_path("/counter/cases/{number}/materials"))
def upload(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Please choose a file to upload.", field="file")
        service.add_material(
            session,
            subject,
            number,
            requirement_code=str(form.get("requirement_code") or ""),
            filename=upload.filename,
            stream=upload.file,
        )
    except TongbanError as exc:
        return _case_page(request, session, subject, number, error=exc)
    return RedirectResponse(f"/counter/cases/{number}#materials", status_code=303)


@router.post("/counter/cases/{number}/finish")
def finish(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        if form.get("outcome") == "receipt":
            visit = service.issue_receipt(session, subject, number)
        else:
            visit = service.issue_notice(session, subject, number)
    except TongbanError as exc:
        return _case_page(request, session, subject, number, error=exc)
    return RedirectResponse(f"/counter/visits/{visit.id}", status_code=303)


# Before the page's route: "/counter/visits/{visit_id}" would match "7.pdf" too.
@router.get("/counter/visits/{visit_id}.pdf")
def visit_pdf(visit_id: RowId, session: SessionDep, subject: PageUser) -> Response:
    return responses.pdf(*service.document_pdf(session, subject, visit_id))


@router.get("/counter/visits/{visit_id}", response_class=HTMLResponse)
def visit(visit_id: RowId, request: Request, session: SessionDep, subject: PageUser) -> Response:
    found, application = service.get_visit(session, subject, visit_id)
    return render(
        request,
        "counter/document.html",
        subject,
        visit=found,
        application=application,
        limit=applications_service.time_limit(application),
        tracking_link=service.tracking_link(application.number),
    )
