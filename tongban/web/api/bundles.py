"""Bundles API ("one thing, one go"): the questionnaire, one merged form and material list,
one submission, combined progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field, TypeAdapter

from tongban.applications.states import Status
from tongban.bundles import service
from tongban.catalog import service as catalog_service
from tongban.db.types import RowId
from tongban.security.principals import ANONYMOUS
from tongban.web import caching
from tongban.web.deps import (
    ApiOptionalSubject,
    ApiSubject,
    SessionDep,
    UploadedFile,
    multipart,
    public,
)
from tongban.web.limits import upload_path

router = APIRouter(tags=["bundles"])


class BundleSummary(BaseModel):
    code: str
    name_zh: str
    name_en: str
    summary_zh: str
    summary_en: str
    items: list[str]


class Answers(BaseModel):
    answers: dict[str, str] = Field(default_factory=dict, examples=[{"born_here": "yes"}])


class WalkRead(BaseModel):
    question: dict[str, Any] | None
    items: list[str]
    eligible: bool
    exit_zh: str | None
    exit_en: str | None


class CaseCreate(Answers):
    code: str


class LinkedRead(BaseModel):
    key: str
    item_code: str
    department_code: str
    number: str
    status: Status
    waiting_for: list[str]


class CaseRead(BaseModel):
    id: int
    code: str
    submitted: bool
    completed: bool
    fields: list[str]
    form: dict[str, Any]
    # Material code -> files uploaded; and the file types every item asking for it accepts.
    materials: dict[str, list[str]]
    material_types: dict[str, list[str]]
    missing_zh: list[str]
    missing_en: list[str]
    # Not asked: field name or material code -> the item whose result gives it.
    from_results: dict[str, str]
    applications: list[LinkedRead]


class FormBody(BaseModel):
    form: dict[str, Any]


def _case(merged: service.Merged) -> CaseRead:
    return CaseRead(
        id=merged.case.id,
        code=merged.case.code,
        submitted=merged.submitted,
        completed=merged.completed,
        fields=[f.name for f in merged.fields],
        form=merged.values,
        materials={m.code: m.files for m in merged.materials},
        material_types={m.code: m.types for m in merged.materials},
        missing_zh=[m.zh for m in merged.missing],
        missing_en=[m.en for m in merged.missing],
        from_results={name: g.source.code for name, g in merged.given.items()},
        applications=[
            LinkedRead(
                key=key,
                item_code=merged.bundle.items[key].code,
                department_code=a.item.department.code,
                number=a.number,
                status=a.status,
                waiting_for=merged.waiting(key),
            )
            for key, a in merged.applications.items()
        ],
    )


@router.get(public("/api/v1/bundles"), response_model=list[BundleSummary])
def bundles(request: Request, session: SessionDep, subject: ApiOptionalSubject) -> Response:
    """Every bundle, from the catalog in memory, with ETag and Last-Modified."""
    return caching.json_answer(
        request,
        catalog_service.published(session, subject or ANONYMOUS),
        "bundles",
        lambda: _SUMMARIES.dump_json(
            [
                BundleSummary(
                    code=b.code,
                    name_zh=b.name_zh,
                    name_en=b.name_en,
                    summary_zh=b.summary_zh,
                    summary_en=b.summary_en,
                    items=[i.item for i in b.items],
                )
                for b in service.catalogue(session, subject or ANONYMOUS)
            ]
        ),
    )


_SUMMARIES = TypeAdapter(list[BundleSummary])


@router.post(public("/api/v1/bundles/{code}/walk"), response_model=WalkRead)
def walk(code: str, body: Answers, session: SessionDep, subject: ApiOptionalSubject) -> WalkRead:
    """Where the answers lead: the next question, the items that apply, or an exit page."""
    bundle, result = service.ask(session, subject or ANONYMOUS, code, body.answers)
    return WalkRead(
        question=result.question.model_dump() if result.question else None,
        items=[bundle.items[k].code for k in result.keys],
        eligible=result.exit is None,
        exit_zh=result.exit.text_zh if result.exit else None,
        exit_en=result.exit.text_en if result.exit else None,
    )


@router.post("/api/v1/bundle-cases", response_model=CaseRead, status_code=status.HTTP_201_CREATED)
def start(body: CaseCreate, session: SessionDep, subject: ApiSubject) -> CaseRead:
    case = service.start(session, subject, code=body.code, answers=body.answers)
    return _case(service.merged(session, subject, case.id))


@router.get("/api/v1/bundle-cases/{case_id}", response_model=CaseRead)
def get_case(case_id: RowId, session: SessionDep, subject: ApiSubject) -> CaseRead:
    return _case(service.merged(session, subject, case_id))


@router.put("/api/v1/bundle-cases/{case_id}/form", response_model=CaseRead)
def save_form(case_id: RowId, body: FormBody, session: SessionDep, subject: ApiSubject) -> CaseRead:
    service.save_form(session, subject, case_id, body.form)
    return _case(service.merged(session, subject, case_id))


@router.post(
    upload_path("/api/v1/bundle-cases/{case_id}/materials"),
    status_code=status.HTTP_201_CREATED,
    openapi_extra=multipart("requirement_code"),
)
def upload(
    case_id: RowId, session: SessionDep, subject: ApiSubject, upload: UploadedFile
) -> dict[str, int]:
    """One file for every linked application that asks for this material."""
    taken = service.add_material(
        session,
        subject,
        case_id,
        requirement_code=upload.text("requirement_code"),
        filename=upload.filename,
        stream=upload.stream,
    )
    return {"applications": taken}


@router.post("/api/v1/bundle-cases/{case_id}/submit", response_model=CaseRead)
def submit(case_id: RowId, session: SessionDep, subject: ApiSubject) -> CaseRead:
    return _case(service.submit(session, subject, case_id))
