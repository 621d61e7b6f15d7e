"""Good/bad evaluation API: the applicant rates, the department rectifies, everyone sees the
figures."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from tongban.db.types import RowId
from tongban.evaluations import service
from tongban.evaluations.indicators import INDICATORS
from tongban.evaluations.models import RectificationStatus
from tongban.evaluations.schemas import (
    ApplicantRectificationRead,
    CallbackBody,
    EvaluationRead,
    FiguresRead,
    MyEvaluationRead,
    RatedRead,
    RatingCreate,
    RectificationDetail,
    RectificationRead,
    ReplyBody,
    SatisfactionRead,
)
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import ApiOptionalSubject, ApiSubject, SessionDep, public

router = APIRouter(tags=["evaluations"])


@router.post(
    "/api/v1/applications/{number}/evaluation",
    response_model=RatedRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "Not the applicant of this case"},
        404: {"description": "No such application open to you"},
        409: {"description": "Already rated (already_rated), or not finished (not_rateable)"},
        422: {"description": "An indicator is missing or off the five levels"},
    },
)
def rate(number: str, body: RatingCreate, session: SessionDep, subject: ApiSubject) -> RatedRead:
    """Rate one's own case once. A rating of 不满意 (2) or worse opens a rectification case for
    the department, due in 15 working days."""
    evaluation = service.rate(
        session, subject, number=number, indicators=body.indicators, comment=body.comment
    )
    mine = service.of_application(session, subject, number)
    return RatedRead(
        evaluation=EvaluationRead.model_validate(evaluation),
        rectification_due_on=mine.rectification.due_on if mine.rectification else None,
    )


@router.get("/api/v1/applications/{number}/evaluation", response_model=MyEvaluationRead)
def my_evaluation(number: str, session: SessionDep, subject: ApiSubject) -> MyEvaluationRead:
    mine = service.of_application(session, subject, number)
    return MyEvaluationRead(
        can_rate=mine.can_rate,
        channel=mine.channel,
        indicators=list(INDICATORS[mine.channel]),
        evaluation=EvaluationRead.model_validate(mine.evaluation) if mine.evaluation else None,
        rectification=ApplicantRectificationRead.model_validate(mine.rectification)
        if mine.rectification
        else None,
    )


@router.get("/api/v1/rectifications", response_model=list[RectificationRead])
def rectifications(
    session: SessionDep,
    subject: ApiSubject,
    status_: RectificationStatus | None = Query(default=None, alias="status"),
) -> object:
    """The signed-in official's department's rectification cases, soonest due first."""
    return service.department_rectifications(session, subject, status=status_)


@router.get("/api/v1/rectifications/{rectification_id}", response_model=RectificationDetail)
def rectification(rectification_id: RowId, session: SessionDep, subject: ApiSubject) -> object:
    found, evaluation = service.get_rectification(session, subject, rectification_id)
    return RectificationDetail(
        **RectificationRead.model_validate(found).model_dump(),
        evaluation=EvaluationRead.model_validate(evaluation),
    )


@router.post("/api/v1/rectifications/{rectification_id}/reply", response_model=RectificationRead)
def reply(
    rectification_id: RowId, body: ReplyBody, session: SessionDep, subject: ApiSubject
) -> object:
    """Reply to the applicant (sent to them by SMS, e-mail and in-app message)."""
    return service.reply(session, subject, rectification_id, text=body.reply)


@router.post("/api/v1/rectifications/{rectification_id}/callback", response_model=RectificationRead)
def callback(
    rectification_id: RowId, body: CallbackBody, session: SessionDep, subject: ApiSubject
) -> object:
    """Record the call-back to the applicant after the reply; closes the case."""
    return service.record_callback(
        session, subject, rectification_id, satisfied=body.satisfied, note=body.note
    )


@router.post("/api/v1/rectifications/escalations")
def escalate(session: SessionDep, subject: ApiSubject) -> dict[str, int]:
    """Escalate every rectification past its due date without a reply (administrators)."""
    return {"escalated": service.escalate_overdue(session, subject)}


@router.get(public("/api/v1/satisfaction"), response_model=SatisfactionRead)
def satisfaction(session: SessionDep, subject: ApiOptionalSubject) -> SatisfactionRead:
    """Ratings per department and item: count, average level, share 基本满意 or better (%)."""
    found = service.satisfaction(session, subject or ANONYMOUS)

    def read(f: service.Figures) -> FiguresRead:
        return FiguresRead(
            code=f.code,
            name_zh=f.name_zh,
            name_en=f.name_en,
            count=f.count,
            average=f.average,
            satisfaction_rate=f.satisfaction_rate,
            by_level=f.by_level,
        )

    return SatisfactionRead(
        departments=[read(f) for f in found.departments], items=[read(f) for f in found.items]
    )
