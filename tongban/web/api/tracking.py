"""Tracking API: anyone with an application number and the one-time code sent to the
applicant sees its progress."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from tongban.applications import service as applications_service
from tongban.applications.states import Action, Status
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.tracking import service
from tongban.web.deps import ApiOptionalSubject, SessionDep, locale, public
from tongban.web.ratelimit import limited

router = APIRouter(tags=["tracking"])


class CodeRequest(BaseModel):
    number: str = Field(max_length=40, examples=["TB20261126483920K7"])
    channel: Literal["sms", "email"] = "sms"


class CodeRequested(BaseModel):
    message: str


class TrackRequest(BaseModel):
    number: str = Field(max_length=40)
    code: str = Field(max_length=12)


class Step(BaseModel):
    at: datetime
    action: Action | None
    status: Status


class Progress(BaseModel):
    number: str
    item_code: str
    # Every item the application covers (a bundle's department application may have several).
    item_name_zh: str
    item_name_en: str
    department_code: str
    status: Status
    submitted_at: datetime | None
    due_on: date | None
    result_number: str | None
    steps: list[Step]


@router.post(
    public("/api/v1/tracking/codes"),
    response_model=CodeRequested,
    status_code=status.HTTP_202_ACCEPTED,
    responses={429: {"description": "Too many codes asked for this number or from this address"}},
    dependencies=[limited("tracking_code_address")],
)
def request_code(
    body: CodeRequest, request: Request, session: SessionDep, subject: ApiOptionalSubject
) -> CodeRequested:
    """Send a one-time code to the applicant's phone (sms) or e-mail. The answer is the same
    whether or not the number exists."""
    service.request_code(session, subject or ANONYMOUS, number=body.number, channel=body.channel)
    return CodeRequested(
        message=translate(
            "If the number is right, a code went to the applicant's phone or e-mail.",
            locale(request),
        )
    )


@router.post(
    public("/api/v1/tracking"),
    response_model=Progress,
    responses={
        422: {"description": "Wrong or expired code (tracking_code_invalid)"},
        429: {"description": "Too many look-ups from this address (rate_limited)"},
    },
    dependencies=[limited("tracking_address")],
)
def track(
    body: TrackRequest, request: Request, session: SessionDep, subject: ApiOptionalSubject
) -> object:
    """The progress (status, steps, time limit; no form values, no names), once the code is
    right. A code is good once and for 10 minutes; 5 wrong tries spend it."""
    application = service.track(session, subject or ANONYMOUS, number=body.number, code=body.code)
    limit = applications_service.time_limit(application)
    return Progress(
        number=application.number,
        item_code=application.item.code,
        item_name_zh=applications_service.names(application).zh,
        item_name_en=applications_service.names(application).en,
        department_code=application.item.department.code,
        status=application.status,
        submitted_at=application.submitted_at,
        due_on=limit.due_on if limit else None,
        result_number=application.result_number,
        steps=[Step(at=h.at, action=h.action, status=h.to_status) for h in application.history],
    )
