"""Who used my data: a person's (or their company's) data-use record, objections, and the
data protection officer's answers."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from tongban.datause import service
from tongban.datause.models import Channel, Objection, ObjectionStatus
from tongban.datause.views import DataUseView
from tongban.db.types import RowId
from tongban.web.deps import ApiSubject, Page, SessionDep, acting_for_id

router = APIRouter(tags=["who used my data"])


class ObjectionRead(BaseModel):
    id: int
    number: str
    data_use_id: int
    text: str
    raised_at: datetime
    status: ObjectionStatus
    reply: str
    replied_at: datetime | None


class DataUseRead(BaseModel):
    """One use of the data: who read which items (by name, never the values), when and why."""

    id: int
    at: datetime = Field(description="When it was used (the last time, for a counted entry)")
    first_at: datetime
    times: int = Field(
        description="An official's uses of one case in a day are one entry: how many there were"
    )
    channel: Channel
    department_zh: str
    department_en: str
    system_zh: str
    system_en: str
    items_zh: list[str]
    items_en: list[str]
    purpose_zh: str
    purpose_en: str
    reference: str = Field(description="The application number, for an official's read")
    objections: list[ObjectionRead]


class DataUsePageRead(BaseModel):
    whose: str = Field(description="person, or the unified social credit code of the company")
    entries: list[DataUseRead]
    page: int
    per_page: int
    total: int


class ObjectionIn(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


class ReplyIn(BaseModel):
    reply: str = Field(min_length=1, max_length=service.MAX_TEXT)


class ObjectionCaseRead(ObjectionRead):
    raised_by: str
    use: DataUseRead | None


def _objection(objection: Objection) -> ObjectionRead:
    return ObjectionRead(
        id=objection.id,
        number=service.number_of(objection),
        data_use_id=objection.data_use_id,
        text=objection.text,
        raised_at=objection.raised_at,
        status=objection.status,
        reply=objection.reply,
        replied_at=objection.replied_at,
    )


def _use(view: DataUseView, objections: list[Objection]) -> DataUseRead:
    return DataUseRead(
        id=view.id,
        at=view.at,
        first_at=view.first_at,
        times=view.times,
        channel=view.channel,
        department_zh=view.department.zh,
        department_en=view.department.en,
        system_zh=view.system.zh,
        system_en=view.system.en,
        items_zh=[i.zh for i in view.items],
        items_en=[i.en for i in view.items],
        purpose_zh=view.purpose.zh,
        purpose_en=view.purpose.en,
        reference=view.reference,
        objections=[_objection(o) for o in objections],
    )


@router.get("/api/v1/me/data-use", response_model=DataUsePageRead)
def my_data_use(
    request: Request,
    session: SessionDep,
    subject: ApiSubject,
    page: Page = 1,
    per_page: int = Query(default=20, ge=1, le=service.MAX_PER_PAGE),
) -> DataUsePageRead:
    """Which department and system read which of my data items, when and why, newest first.
    While the sign-in acts for a company, the company's."""
    found = service.my_data_use(
        session, subject, acting_for=acting_for_id(request), page=page, per_page=per_page
    )
    return DataUsePageRead(
        whose=found.legal_person.uscc if found.legal_person else "person",
        entries=[_use(v, found.objections.get(v.id, [])) for v in found.entries],
        page=found.page,
        per_page=found.per_page,
        total=found.total,
    )


@router.post(
    "/api/v1/me/data-use/{data_use_id}/objections",
    response_model=ObjectionRead,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No such entry of your data-use record"}},
)
def object_to(
    data_use_id: RowId,
    body: ObjectionIn,
    request: Request,
    session: SessionDep,
    subject: ApiSubject,
) -> ObjectionRead:
    """Object to one use; the data protection officer answers."""
    objection = service.raise_objection(
        session, subject, data_use_id, text=body.text, acting_for=acting_for_id(request)
    )
    return _objection(objection)


@router.get("/api/v1/me/objections", response_model=list[ObjectionRead])
def my_objections(request: Request, session: SessionDep, subject: ApiSubject) -> object:
    return [
        _objection(o)
        for o in service.my_objections(session, subject, acting_for=acting_for_id(request))
    ]


@router.get("/api/v1/dpo/objections", response_model=list[ObjectionCaseRead])
def objections(
    session: SessionDep,
    subject: ApiSubject,
    status_: ObjectionStatus | None = Query(default=None, alias="status"),
) -> object:
    """Objections for the data protection officer, open ones first."""
    return [
        ObjectionCaseRead(
            **_objection(case.objection).model_dump(),
            raised_by=case.raised_by,
            use=_use(case.use, []) if case.use else None,
        )
        for case in service.objections(session, subject, status=status_)
    ]


@router.post(
    "/api/v1/dpo/objections/{objection_id}/reply",
    response_model=ObjectionRead,
    responses={409: {"description": "Already answered and closed"}},
)
def reply(objection_id: RowId, body: ReplyIn, session: SessionDep, subject: ApiSubject) -> object:
    """Answer and close an objection; the person is told."""
    return _objection(service.reply(session, subject, objection_id, text=body.reply))
