"""Applications API: everything the applicant and official pages do."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, Response

from tongban.applications import service
from tongban.applications.schemas import (
    ActionRequest,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSummary,
    FormUpdate,
    MaterialRead,
    read_model,
    summary,
)
from tongban.applications.states import Status
from tongban.web import responses
from tongban.web.deps import ApiSubject, SessionDep, acting_for_id

router = APIRouter(tags=["applications"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such application open to you"},
    409: {"description": "Not allowed in the application's current state"},
    422: {"description": "Invalid input; the body names the field"},
}


@router.post(
    "/api/v1/applications",
    response_model=ApplicationRead,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def start_application(
    body: ApplicationCreate, request: Request, session: SessionDep, subject: ApiSubject
) -> ApplicationRead:
    """Open a draft. While the sign-in acts for a legal person (PUT /api/v1/session/acting-for),
    the application is that company's."""
    application = service.start(
        session,
        subject,
        item_code=body.item_code,
        form=body.form,
        acting_for=acting_for_id(request),
    )
    return read_model(application, service.next_actions(subject, application))


@router.get("/api/v1/applications", response_model=list[ApplicationSummary])
def my_applications(session: SessionDep, subject: ApiSubject) -> list[ApplicationSummary]:
    return [ApplicationSummary(**summary(a)) for a in service.list_mine(session, subject)]


@router.get("/api/v1/queue", response_model=list[ApplicationSummary], tags=["work queue"])
def work_queue(
    session: SessionDep,
    subject: ApiSubject,
    status_: list[Status] | None = Query(default=None, alias="status"),
) -> list[ApplicationSummary]:
    """The signed-in official's department's cases, oldest first."""
    return [
        ApplicationSummary(**summary(a))
        for a in service.work_queue(session, subject, statuses=status_)
    ]


@router.get("/api/v1/applications/{number}", response_model=ApplicationRead, responses=_ERRORS)
def get_application(number: str, session: SessionDep, subject: ApiSubject) -> ApplicationRead:
    application = service.get(session, subject, number)
    return read_model(application, service.next_actions(subject, application))


@router.put("/api/v1/applications/{number}/form", response_model=ApplicationRead, responses=_ERRORS)
def save_form(
    number: str, body: FormUpdate, session: SessionDep, subject: ApiSubject
) -> ApplicationRead:
    application = service.update_form(session, subject, number, body.form)
    return read_model(application, service.next_actions(subject, application))


@router.post(
    "/api/v1/applications/{number}/materials",
    response_model=MaterialRead,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 413: {"description": "File too large"}},
)
def upload_material(
    number: str,
    session: SessionDep,
    subject: ApiSubject,
    requirement_code: str = Form(...),
    file: UploadFile = File(...),
) -> object:
    return service.add_material(
        session,
        subject,
        number,
        requirement_code=requirement_code,
        filename=file.filename or "",
        stream=file.file,
    )


@router.delete(
    "/api/v1/applications/{number}/materials/{material_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def delete_material(
    number: str, material_id: int, session: SessionDep, subject: ApiSubject
) -> None:
    service.remove_material(session, subject, number, material_id)


@router.get(
    "/api/v1/applications/{number}/materials/{material_id}",
    response_class=FileResponse,
    responses=_ERRORS,
)
def download_material(
    number: str, material_id: int, session: SessionDep, subject: ApiSubject
) -> FileResponse:
    material, path = service.open_material(session, subject, number, material_id)
    return FileResponse(path, media_type=material.content_type, filename=material.filename)


@router.get(
    "/api/v1/applications/{number}/decision.pdf",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}}}},
)
def decision_document(number: str, session: SessionDep, subject: ApiSubject) -> Response:
    """The decision document (approval, denial or rejection notice) as a PDF."""
    return responses.pdf(*service.decision_document(session, subject, number))


@router.post(
    "/api/v1/applications/{number}/actions", response_model=ApplicationRead, responses=_ERRORS
)
def take_action(
    number: str, body: ActionRequest, session: SessionDep, subject: ApiSubject
) -> ApplicationRead:
    """Move the application through its states: submit and withdraw (applicant); accept, return,
    reject, start_review, approve, deny and complete (official of the handling department)."""
    application = service.act(
        session, subject, number, body.action, reason=body.reason, result_note=body.result_note
    )
    return read_model(application, service.next_actions(subject, application))
