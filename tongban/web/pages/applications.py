"""Applicant pages: apply, fill the form, upload materials, submit, follow progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tongban.applications import provision, service
from tongban.applications.errors import Incomplete
from tongban.applications.states import Action
from tongban.db.types import RowId
from tongban.errors import InvalidInput, TongbanError
from tongban.evaluations import service as evaluations_service
from tongban.evaluations.indicators import LEVELS
from tongban.exchange.service import Outcome
from tongban.identity.models import Account, AccountKind
from tongban.kit.i18n import translate
from tongban.licences import reuse
from tongban.licences import service as licences_service
from tongban.payments import service as payments_service
from tongban.web import responses
from tongban.web.deps import PageUser, PostedForm, SessionDep, acting_for_id, locale
from tongban.web.limits import upload_path
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELD_PREFIX = "f_"
# Set by the edit page's script when a material form carries the main form's unsaved values.
CARRIED = "with_form"


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
    error_material: str | None = None,
    values: dict[str, Any] | None = None,
    left: dict[str, Outcome] | None = None,
) -> Response:
    """The form page, with an error shown both in the summary at the top and at its field
    (``error_material``: the material whose upload failed)."""
    application = service.get(session, subject, number)
    fields = service.case_fields(application)
    # The edit page is the applicant's own: the whole form, as saved or as just typed.
    shown = values if values is not None else service.disclose(session, subject, application).values
    have = {m.requirement_code for m in application.materials}
    planned = (
        {p.requirement.code: p for p in provision.plan(session, subject, number, acr=_acr(request))}
        if subject.kind is AccountKind.APPLICANT
        else {}
    )
    # Provided at submission: not missing (a record that cannot be fetched is named then).
    provided = {p.requirement.name for p in planned.values() if p.source.free}
    return render(
        request,
        "applications/edit.html",
        subject,
        status_code=error.status_code if error else 200,
        page_path=f"/applications/{number}/edit",
        application=application,
        fields=fields,
        # What an earlier step of a bundle issues: shown, not asked.
        given_fields=service.given_fields(application),
        given_materials=service.given_materials(application),
        values=shown,
        prefill=service.prefill_states(application, shown),
        # The page shows typed values that were not saved (they were refused).
        unsaved=values is not None,
        # What is still missing as the page shows it: a value typed but refused is not missing.
        missing=[m for m in service.missing(application, shown) if m not in provided],
        error=_error_text(request, error) if error else None,
        error_field=error.field if error and error.field in {f.name for f in fields} else None,
        error_material=error_material if error else None,
        # After a refused submission, point at each required material still to upload.
        unmet_materials={
            r.code for r in service.requirements(application) if r.required and r.code not in have
        }
        if isinstance(error, Incomplete)
        else set(),
        # Materials a licence the applicant already holds can stand in for (no upload).
        licence_offers={
            o.requirement_code: o
            for o in reuse.offers(session, subject, number, acting_for=acting_for_id(request))
        },
        # Where each material comes from (免提交 or 需上传): the applicant's own page only.
        sources=planned,
        # Records the exchange could not give at the last submission, and why.
        left=left or {},
    )


def _save_carried_form(
    session: Session, subject: Account, number: str, form: FormData
) -> tuple[dict[str, Any] | None, TongbanError | None]:
    """Save the form values a material form carried along (typed but not yet saved), so that
    uploading or removing a file never loses them. Returns the values and any error in them."""
    if form.get(CARRIED) != "1":
        return None, None
    values = form_values(form)
    try:
        service.update_form(session, subject, number, values)
    except TongbanError as exc:
        # update_form writes nothing when the values are refused.
        return values, exc
    return values, None


@router.post("/items/{code}/apply")
def apply(
    code: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    application = service.start(session, subject, item_code=code, acting_for=acting_for_id(request))
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
    # The materials fetched through the exchange the applicant agreed to (by material code).
    consent = [str(c) for c in form.getlist("consent")]
    own = subject.kind is AccountKind.APPLICANT
    left: dict[str, Outcome] = {}
    try:
        if intent == "submit" and own:
            # Records are fetched before anything changes (a fetch ends the transaction).
            provision.look_up(session, subject, number, acr=_acr(request), consent=consent)
        service.update_form(session, subject, number, values)
        if intent == "submit":
            if own:
                # What the platform provides instead of an upload, from the form as saved.
                provided = provision.provide(
                    session, subject, number, acr=_acr(request), consent=consent
                )
                left = provided.left
            service.act(session, subject, number, Action.SUBMIT)
            return RedirectResponse(f"/applications/{number}?submitted=1", status_code=303)
    except TongbanError as exc:
        # Nothing was written by the failed step; show the form again with what was typed.
        return _edit_page(request, session, subject, number, error=exc, values=values, left=left)
    return RedirectResponse(f"/applications/{number}/edit?saved=1", status_code=303)


def _acr(request: Request) -> str | None:
    """The assurance level of the sign-in this request came with."""
    row = getattr(request.state, "web_session", None)
    return row.acr if row is not None else None


@router.post(upload_path("/applications/{number}/materials"))
def upload(
    number: str, request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    upload = form.get("file")
    requirement = str(form.get("requirement_code") or "")
    values, form_error = _save_carried_form(session, subject, number, form)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Please choose a file to upload.", field="file")
        service.add_material(
            session,
            subject,
            number,
            requirement_code=requirement,
            filename=upload.filename,
            stream=upload.file,
        )
    except TongbanError as exc:
        return _edit_page(
            request, session, subject, number, error=exc, error_material=requirement, values=values
        )
    if form_error:
        return _edit_page(request, session, subject, number, error=form_error, values=values)
    return RedirectResponse(f"/applications/{number}/edit#materials", status_code=303)


@router.post("/applications/{number}/materials/{material_id}/delete")
def remove(
    number: str,
    material_id: RowId,
    request: Request,
    session: SessionDep,
    subject: PageUser,
    form: PostedForm,
) -> Response:
    values, form_error = _save_carried_form(session, subject, number, form)
    service.remove_material(session, subject, number, material_id)
    if form_error:
        return _edit_page(request, session, subject, number, error=form_error, values=values)
    return RedirectResponse(f"/applications/{number}/edit#materials", status_code=303)


@router.post("/applications/{number}/withdraw")
def withdraw(number: str, session: SessionDep, subject: PageUser, form: PostedForm) -> Response:
    service.act(session, subject, number, Action.WITHDRAW)
    return RedirectResponse(f"/applications/{number}", status_code=303)


@router.get("/applications/{number}", response_class=HTMLResponse)
def detail(number: str, request: Request, session: SessionDep, subject: PageUser) -> Response:
    application = service.get(session, subject, number)
    # The applicant's own rating of the case (officials see ratings as rectifications).
    own = subject.is_applicant and application.applicant_id == subject.id
    return render(
        request,
        "applications/detail.html",
        subject,
        application=application,
        limit=service.time_limit(application),
        fields=service.case_fields(application),
        form=service.disclose(session, subject, application),
        prefill=service.prefill_states(application),
        evidence=service.assess_evidence(application),
        actions=service.next_actions(subject, application),
        submitted=request.query_params.get("submitted") == "1",
        rating=evaluations_service.of_application(session, subject, number) if own else None,
        levels=LEVELS,
        licence_evidence={e.material_id: e for e in reuse.evidence(session, subject, number)},
        licences=licences_service.of_application(
            session, subject, number, acting_for=acting_for_id(request)
        ),
        fee=payments_service.for_case(session, subject, application),
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


@router.get("/applications/{number}/decision.pdf")
def decision(number: str, session: SessionDep, subject: PageUser) -> Response:
    return responses.pdf(*service.decision_document(session, subject, number))


@router.get("/applications/{number}/materials/{material_id}")
def download(number: str, material_id: RowId, session: SessionDep, subject: PageUser) -> Response:
    material, path = service.open_material(session, subject, number, material_id)
    return FileResponse(path, media_type=material.content_type, filename=material.filename)
