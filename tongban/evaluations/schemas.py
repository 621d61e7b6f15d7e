"""API shapes for evaluations and rectifications."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tongban.evaluations.models import EvaluationChannel, Level, RectificationStatus


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicators: dict[str, Annotated[int, Field(ge=min(Level), le=max(Level))]] = Field(
        description="Every indicator of the case's channel, each on the five levels: "
        "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.",
        examples=[
            {"overall": 5, "efficiency": 5, "guide_accuracy": 4, "convenience": 5, "usability": 4}
        ],
    )
    comment: str = Field(default="", max_length=1000)


class EvaluationRead(_Read):
    number: str
    channel: EvaluationChannel
    level: int
    indicators: dict[str, int]
    comment: str
    created_at: datetime


class RectificationRead(_Read):
    id: int
    number: str
    status: RectificationStatus
    due_on: date
    trace: dict[str, Any]
    created_at: datetime
    reply: str
    replied_at: datetime | None
    callback_at: datetime | None
    callback_satisfied: bool | None
    callback_note: str
    escalated_at: datetime | None


class ApplicantRectificationRead(_Read):
    """What the applicant sees of the rectification their rating opened."""

    status: RectificationStatus
    due_on: date
    reply: str
    replied_at: datetime | None


class MyEvaluationRead(BaseModel):
    can_rate: bool
    channel: EvaluationChannel
    indicators: list[str]
    evaluation: EvaluationRead | None
    rectification: ApplicantRectificationRead | None


class RatedRead(BaseModel):
    evaluation: EvaluationRead
    # Set when the rating opened a rectification case (不满意 or worse).
    rectification_due_on: date | None


class RectificationDetail(RectificationRead):
    evaluation: EvaluationRead


class ReplyBody(BaseModel):
    reply: str = Field(min_length=1, max_length=1000)


class CallbackBody(BaseModel):
    satisfied: bool
    note: str = Field(default="", max_length=1000)


class FiguresRead(BaseModel):
    code: str
    name_zh: str
    name_en: str
    count: int
    average: Decimal
    satisfaction_rate: Decimal
    by_level: dict[int, int]


class SatisfactionRead(BaseModel):
    departments: list[FiguresRead]
    items: list[FiguresRead]
