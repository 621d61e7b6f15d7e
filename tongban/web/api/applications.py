"""Applications API: everything the applicant and official pages do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tongban.applications import provision, service
from tongban.applications.models import Application
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
from tongban.db.types import RowId
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.web import responses
from tongban.web.deps import (
    ApiSubject,
    ApiWebSession,
    SessionDep,
    UploadedFile,
    acting_for_id,
    committed_json,
    multipart,
)
from tongban.web.limits import upload_path

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
) -> Response:
    """Open a draft. While the sign-in acts for a legal person (PUT /api/v1/session/acting-for),
    the application is that company's."""
    application = service.start(
        session,
        subject,
        item_code=body.item_code,
        form=body.form,
        acting_for=acting_for_id(request),
    )
    return committed_json(
        session, _read(session, subject, application), status_code=status.HTTP_201_CREATED
    )


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


class CaseSearchRead(BaseModel):
    item_code: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int


def _search(
    session: Session,
    subject: Account,
    item: str,
    filters: list[str] | None,
    sort: list[str] | None,
    desc: bool,
    *,
    export: bool,
) -> service.CaseSearch:
    where: dict[str, str] = {}
    for text in filters or []:
        name, colon, value = text.partition(":")
        if not colon or not name:
            raise InvalidInput("A filter is written field:value.", field="filter")
        where[name] = value
    return service.search_cases(
        session,
        subject,
        item_code=item,
        where=where,
        order_by=sort or [],
        descending=desc,
        limit=None if export else service.SEARCH_LIMIT,
        export=export,
    )


_SEARCH_DOC = (
    "One item's cases in the official's department. ``filter=field:value`` (repeatable) keeps "
    "cases whose field equals the value; ``sort=field`` orders them. Only fields the official's "
    "clearance may read can be filtered or sorted by; values above it are masked."
)


@router.get(
    "/api/v1/cases", response_model=CaseSearchRead, tags=["work queue"], description=_SEARCH_DOC
)
def search_cases(
    session: SessionDep,
    subject: ApiSubject,
    item: str,
    filter_: list[str] | None = Query(default=None, alias="filter"),
    sort: list[str] | None = Query(default=None),
    desc: bool = False,
) -> CaseSearchRead:
    found = _search(session, subject, item, filter_, sort, desc, export=False)
    return CaseSearchRead(
        item_code=found.item.code, columns=found.columns, rows=found.rows, total=found.total
    )


@router.get("/api/v1/cases.csv", tags=["work queue"], description=_SEARCH_DOC)
def export_cases(
    session: SessionDep,
    subject: ApiSubject,
    item: str,
    filter_: list[str] | None = Query(default=None, alias="filter"),
    sort: list[str] | None = Query(default=None),
    desc: bool = False,
) -> Response:
    found = _search(session, subject, item, filter_, sort, desc, export=True)
    return responses.csv_download(f"{found.item.code}-cases.csv", found.columns, found.rows)


@router.get("/api/v1/applications/{number}", response_model=ApplicationRead, responses=_ERRORS)
def get_application(number: str, session: SessionDep, subject: ApiSubject) -> Response:
    application = service.get(session, subject, number)
    return committed_json(session, _read(session, subject, application))


@router.put("/api/v1/applications/{number}/form", response_model=ApplicationRead, responses=_ERRORS)
def save_form(
    number: str, body: FormUpdate, session: SessionDep, subject: ApiSubject
) -> ApplicationRead:
    application = service.update_form(session, subject, number, body.form)
    return _read(session, subject, application)


@router.post(
    upload_path("/api/v1/applications/{number}/materials"),
    response_model=MaterialRead,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 413: {"description": "File too large"}},
    openapi_extra=multipart("requirement_code"),
)
def upload_material(
    number: str, session: SessionDep, subject: ApiSubject, upload: UploadedFile
) -> object:
    return service.add_material(
        session,
        subject,
        number,
        requirement_code=upload.text("requirement_code"),
        filename=upload.filename,
        stream=upload.stream,
    )


class MaterialSourceRead(BaseModel):
    requirement_code: str
    required: bool
    source: str = Field(description="generated, identity, licence, data or upload")
    replaced_by_zh: str
    replaced_by_en: str
    material_id: int | None = Field(description="The file attached for it, if any")
    grade: str | None
    consent_items: list[str] = Field(
        description="For a record fetched through the exchange: the items whose sharing "
        "asks for the applicant's consent"
    )


@router.get(
    "/api/v1/applications/{number}/material-sources",
    response_model=list[MaterialSourceRead],
    responses=_ERRORS,
)
def material_sources(
    number: str, session: SessionDep, subject: ApiSubject, web_session: ApiWebSession
) -> list[MaterialSourceRead]:
    """Where each material comes from for this applicant: no upload is needed for those the
    platform generates, their verified identity covers, an electronic licence of theirs
    stands in for, or the exchange fetches from the department holding it."""
    return [
        MaterialSourceRead(
            requirement_code=p.requirement.code,
            required=p.requirement.required,
            source=p.source.kind.value,
            replaced_by_zh=p.source.replaced_by.zh,
            replaced_by_en=p.source.replaced_by.en,
            material_id=p.material.id if p.material else None,
            grade=p.material.grade if p.material else None,
            consent_items=[i.zh for i in p.consent_items],
        )
        for p in provision.plan(session, subject, number, acr=web_session.acr)
    ]


class ProvideRequest(BaseModel):
    consent: list[str] = Field(
        default_factory=list,
        description="Codes of the materials whose record the applicant agrees may be fetched",
        max_length=50,
    )


class ProvidedRead(BaseModel):
    attached: list[MaterialRead]
    left: dict[str, str] = Field(
        description="Materials still to upload, and why: no_grant, consent_needed, "
        "unavailable (the providing system is down) or not_found"
    )


@router.post(
    "/api/v1/applications/{number}/provided-materials",
    response_model=ProvidedRead,
    responses=_ERRORS,
)
def provide_materials(
    number: str,
    body: ProvideRequest,
    session: SessionDep,
    subject: ApiSubject,
    web_session: ApiWebSession,
) -> ProvidedRead:
    """Attach every material the applicant need not upload, each with its source and grade."""
    provided = provision.provide(
        session, subject, number, acr=web_session.acr, consent=body.consent
    )
    return ProvidedRead(
        attached=[MaterialRead.model_validate(m) for m in provided.attached],
        left={code: outcome.value for code, outcome in provided.left.items()},
    )


@router.delete(
    "/api/v1/applications/{number}/materials/{material_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def delete_material(
    number: str, material_id: RowId, session: SessionDep, subject: ApiSubject
) -> None:
    service.remove_material(session, subject, number, material_id)


@router.get(
    "/api/v1/applications/{number}/materials/{material_id}",
    response_class=FileResponse,
    responses=_ERRORS,
)
def download_material(
    number: str, material_id: RowId, session: SessionDep, subject: ApiSubject
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
) -> Response:
    """Move the application through its states: submit and withdraw (applicant); accept, return,
    reject, start_review, approve, deny and complete (official of the handling department)."""
    application = service.act(
        session, subject, number, body.action, reason=body.reason, result_note=body.result_note
    )
    return committed_json(session, _read(session, subject, application))


def _read(session: Session, subject: Account, application: Application) -> ApplicationRead:
    return read_model(
        application,
        service.next_actions(subject, application),
        service.disclose(session, subject, application),
    )
