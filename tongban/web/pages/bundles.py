"""Bundle pages: the guide and questionnaire, one merged form and material list, one
submission, and the combined progress."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tongban.bundles import service
from tongban.catalog import service as catalog_service
from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.identity.models import Account
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.web import caching
from tongban.web.deps import PageSubject, PageUser, PostedForm, SessionDep, locale, public
from tongban.web.limits import upload_path
from tongban.web.pages.applications import form_values
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)


def _answers(pairs: list[str]) -> dict[str, str]:
    """Answers travel as ``a=question:value`` pairs in the address."""
    answers: dict[str, str] = {}
    for pair in pairs:
        question, _, value = pair.partition(":")
        if question and value:
            answers[question] = value
    return answers


@router.get(public("/bundles"), response_class=HTMLResponse)
def catalogue(request: Request, session: SessionDep, subject: PageSubject) -> Response:
    bundles = service.catalogue(session, subject or ANONYMOUS)
    return caching.page(
        request,
        catalog_service.published(session, subject or ANONYMOUS),
        subject,
        lambda: render(request, "bundles/list.html", subject, bundles=bundles),
    )


@router.get(public("/bundles/{code}"), response_class=HTMLResponse)
def guide(code: str, request: Request, session: SessionDep, subject: PageSubject) -> Response:
    answers = _answers(request.query_params.getlist("a"))
    current = request.query_params.get("q")
    if current and request.query_params.get("v"):
        answers[current] = str(request.query_params.get("v"))
    bundle, result = service.ask(session, subject or ANONYMOUS, code, answers)
    return caching.page(
        request,
        catalog_service.published(session, subject or ANONYMOUS),
        subject,
        lambda: render(
            request,
            "bundles/guide.html",
            subject,
            bundle=bundle,
            result=result,
            carried=[f"{q}:{v}" for q, v in result.answered],
        ),
    )


@router.post("/bundles/{code}/start")
def start(code: str, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    answers = _answers([str(v) for v in form.getlist("a")])
    case = service.start(session, subject, code=code, answers=answers)
    return RedirectResponse(f"/bundle-cases/{case.id}", status_code=303)


def _case_page(
    request: Request,
    session: SessionDep,
    subject: Account,
    case_id: RowId,
    error: TongbanError | None = None,
) -> Response:
    return render(
        request,
        "bundles/case.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/bundle-cases/{case_id}",
        merged=service.merged(session, subject, case_id),
        error=translate(error.message, locale(request), **error.params) if error else None,
    )


@router.get("/bundle-cases/{case_id}", response_class=HTMLResponse)
def case(case_id: RowId, request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _case_page(request, session, subject, case_id)


@router.post("/bundle-cases/{case_id}/form")
def save_form(
    case_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.save_form(session, subject, case_id, form_values(form))
    except TongbanError as exc:
        return _case_page(request, session, subject, case_id, exc)
    return RedirectResponse(f"/bundle-cases/{case_id}#materials", status_code=303)


@router.post(upload_path("/bundle-cases/{case_id}/materials"))
def upload(
    case_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Please choose a file to upload.", field="file")
        service.add_material(
            session,
            subject,
            case_id,
            requirement_code=str(form.get("requirement_code") or ""),
            filename=upload.filename,
            stream=upload.file,
        )
    except TongbanError as exc:
        return _case_page(request, session, subject, case_id, exc)
    return RedirectResponse(f"/bundle-cases/{case_id}#materials", status_code=303)


@router.post("/bundle-cases/{case_id}/submit")
def submit(
    case_id: RowId, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    try:
        service.submit(session, subject, case_id)
    except TongbanError as exc:
        return _case_page(request, session, subject, case_id, exc)
    return RedirectResponse(f"/bundle-cases/{case_id}", status_code=303)
