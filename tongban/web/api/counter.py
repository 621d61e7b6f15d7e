"""The single window API (综合窗口) for counter clerks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.applications import service as applications_service
from tongban.applications.schemas import ApplicationRead, FormUpdate, MaterialRead, read_model
from tongban.counter import service
from tongban.counter.models import CounterVisit, Outcome
from tongban.db.types import RowId
from tongban.web import responses
from tongban.web.deps import ApiSubject, SessionDep, UploadedFile, multipart
from tongban.web.limits import upload_path

router = APIRouter(tags=["single window"])


class PersonRead(BaseModel):
    display_name: str
    phone_last4: str | None


class PersonCreate(BaseModel):
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=18)
    phone: str = Field(max_length=20)
    email: str = Field(default="", max_length=254)


class CaseCreate(BaseModel):
    id_number: str = Field(min_length=15, max_length=18)
    item_code: str


class MissingRead(BaseModel):
    fields_zh: list[str]
    fields_en: list[str]
    materials: list[str]


class VisitRead(BaseModel):
    id: int
    number: str
    outcome: Outcome
    document_number: str
    missing: list[dict[str, Any]]
    issued_at: datetime
    pdf: str


def _visit(visit: CounterVisit) -> VisitRead:
    return VisitRead(
        id=visit.id,
        number=visit.number,
        outcome=visit.outcome,
        document_number=visit.document_number,
        missing=visit.missing,
        issued_at=visit.issued_at,
        pdf=f"/api/v1/counter/visits/{visit.id}.pdf",
    )


def _case(session: SessionDep, subject: ApiSubject, number: str) -> ApplicationRead:
    application = applications_service.get(session, subject, number)
    return read_model(
        application,
        applications_service.next_actions(subject, application),
        applications_service.disclose(session, subject, application),
    )


@router.get("/api/v1/counter/people/{id_number}", response_model=PersonRead)
def find_person(id_number: str, session: SessionDep, subject: ApiSubject) -> PersonRead:
    """Look a walk-in applicant up by resident ID number (audited)."""
    person = service.find_person(session, subject, id_number=id_number)
    return PersonRead(
        display_name=person.display_name, phone_last4=person.phone[-4:] if person.phone else None
    )


@router.post(
    "/api/v1/counter/people",
    response_model=PersonRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Someone with this ID number has an account already"}},
)
def register_person(body: PersonCreate, session: SessionDep, subject: ApiSubject) -> PersonRead:
    """Register a walk-in with no account (no password: they claim it online at /claim)."""
    person = service.register_person(
        session,
        subject,
        name=body.name,
        id_number=body.id_number,
        phone=body.phone,
        email=body.email,
    )
    return PersonRead(
        display_name=person.display_name, phone_last4=person.phone[-4:] if person.phone else None
    )


@router.post(
    "/api/v1/counter/cases", response_model=ApplicationRead, status_code=status.HTTP_201_CREATED
)
def open_case(body: CaseCreate, session: SessionDep, subject: ApiSubject) -> ApplicationRead:
    """Open a draft of any department's item for the person with this ID number."""
    application = service.open_case(
        session, subject, id_number=body.id_number, item_code=body.item_code
    )
    return _case(session, subject, application.number)


@router.put("/api/v1/counter/cases/{number}/form", response_model=ApplicationRead)
def save_form(
    number: str, body: FormUpdate, session: SessionDep, subject: ApiSubject
) -> ApplicationRead:
    """Change the fields given (the others are kept)."""
    service.save_form(session, subject, number, body.form)
    return _case(session, subject, number)


@router.post(
    upload_path("/api/v1/counter/cases/{number}/materials"),
    response_model=MaterialRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=multipart("requirement_code"),
)
def upload(number: str, session: SessionDep, subject: ApiSubject, upload: UploadedFile) -> object:
    return service.add_material(
        session,
        subject,
        number,
        requirement_code=upload.text("requirement_code"),
        filename=upload.filename,
        stream=upload.stream,
    )


class OriginalRead(BaseModel):
    number: str
    item_code: str
    # A bundle's department application: the department's other items it also covers.
    covered_item_codes: list[str] = []
    material_id: int
    requirement_code: str
    name_zh: str
    name_en: str
    grade: str
    required_grade: str


class OriginalChecked(BaseModel):
    id_number: str = Field(min_length=15, max_length=18)
    number: str
    material_id: RowId


@router.get("/api/v1/counter/people/{id_number}/originals", response_model=list[OriginalRead])
def originals(id_number: str, session: SessionDep, subject: ApiSubject) -> list[OriginalRead]:
    """The person's uploaded materials whose items need them checked against the original."""
    return [
        OriginalRead(
            number=application.number,
            item_code=application.item.code,
            covered_item_codes=[c.item.code for c in application.covered],
            material_id=material.id,
            requirement_code=requirement.code,
            name_zh=requirement.name_zh,
            name_en=requirement.name_en,
            grade=material.grade,
            required_grade=requirement.required_grade,
        )
        for application, material, requirement in service.originals_to_check(
            session, subject, id_number=id_number
        )
    ]


@router.post(
    "/api/v1/counter/originals",
    response_model=MaterialRead,
    responses={404: {"description": "No such case of the person presenting the ID number"}},
)
def check_original(body: OriginalChecked, session: SessionDep, subject: ApiSubject) -> object:
    """The clerk checked the material against the original the applicant brought (grade B)."""
    return service.check_original(
        session, subject, body.number, body.material_id, id_number=body.id_number
    )


@router.get("/api/v1/counter/cases/{number}/check", response_model=MissingRead)
def check(number: str, session: SessionDep, subject: ApiSubject) -> MissingRead:
    """The case against its item's list: what is still missing."""
    gaps = service.check(session, subject, number).gaps
    return MissingRead(
        fields_zh=[f.zh for f in gaps.fields],
        fields_en=[f.en for f in gaps.fields],
        materials=[r.code for r in gaps.materials],
    )


@router.post(
    "/api/v1/counter/cases/{number}/receipt",
    response_model=VisitRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Something is still missing (still_missing)"}},
)
def receipt(number: str, session: SessionDep, subject: ApiSubject) -> VisitRead:
    """Accept the complete case at the window and route it to the department: 受理回执."""
    return _visit(service.issue_receipt(session, subject, number))


@router.post(
    "/api/v1/counter/cases/{number}/notice",
    response_model=VisitRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Nothing is missing (nothing_missing)"}},
)
def notice(number: str, session: SessionDep, subject: ApiSubject) -> VisitRead:
    """Everything still missing, at once: 一次性告知书."""
    return _visit(service.issue_notice(session, subject, number))


@router.get(
    "/api/v1/counter/visits/{visit_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def visit_pdf(visit_id: RowId, session: SessionDep, subject: ApiSubject) -> Response:
    return responses.pdf(*service.document_pdf(session, subject, visit_id))
