"""API read models of the analytics domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tongban.analytics import queries, warnings


class FigureInfo(BaseModel):
    name: str
    title: str


class FiltersRead(BaseModel):
    today: date
    start: date | None
    end: date | None
    department: str | None
    item: str | None
    channel: str | None
    by: str
    period: str


class FigureRead(BaseModel):
    name: str
    title: str
    source: str
    as_of: datetime | None
    filters: FiltersRead
    columns: list[str]
    rows: list[dict[str, Any]]


class AtRiskRead(BaseModel):
    number: str
    item_code: str
    department_code: str
    status: str
    promised_due_on: date
    statutory_due_on: date | None
    working_days_left: int
    overdue: bool


class WeekRead(BaseModel):
    week: date
    decided: int
    median_days: float | None
    within_promised: float | None


class WorseningRead(BaseModel):
    department_code: str
    last_week: WeekRead
    week_before: WeekRead
    reasons: list[str]


class WarningsRead(BaseModel):
    today: date
    as_of: datetime | None
    at_risk: list[AtRiskRead]
    worsening: list[WorseningRead]


def figure_read(
    name: str,
    title: str,
    source: str,
    as_of: datetime | None,
    filters: queries.Filters,
    result: queries.Result,
) -> FigureRead:
    return FigureRead(
        name=name,
        title=title,
        source=source,
        as_of=as_of,
        filters=FiltersRead(**vars(filters)),
        columns=result.columns,
        rows=result.records(),
    )


def warnings_read(found: warnings.Warnings, reason_text: Any = str) -> WarningsRead:
    return WarningsRead(
        today=found.today,
        as_of=found.as_of,
        at_risk=[AtRiskRead(**vars(r), overdue=r.overdue) for r in found.at_risk],
        worsening=[
            WorseningRead(
                department_code=w.department_code,
                last_week=WeekRead(**vars(w.last_week)),
                week_before=WeekRead(**vars(w.week_before)),
                reasons=[reason_text(r) for r in w.reasons],
            )
            for w in found.worsening
        ],
    )


def csv_rows(result: queries.Result) -> list[list[Any]]:
    """The figure's rows for a CSV file (``kit.csvfile``), fractions to four places."""
    return [[round(v, 4) if isinstance(v, float) else v for v in row] for row in result.rows]


class SatisfactionRow(BaseModel):
    code: str
    name: str
    ratings: int
    average: Decimal
    satisfaction_rate: Decimal  # percent rated 基本满意 or better
    by_level: dict[int, int]


class RectificationRow(BaseModel):
    code: str
    name: str
    open: int
    replied: int
    closed: int
    escalated: int


class RatingsRead(BaseModel):
    departments: list[SatisfactionRow]
    items: list[SatisfactionRow]
    rectifications: list[RectificationRow]


def ratings_read(found: Any, lang: str) -> RatingsRead:
    """``found``: ``analytics.service.Ratings``; names in the reader's language."""

    def name(row: Any) -> str:
        return str(row.name_zh if lang == "zh_CN" else row.name_en)

    def satisfaction(row: Any) -> SatisfactionRow:
        return SatisfactionRow(
            code=row.code,
            name=name(row),
            ratings=row.count,
            average=row.average,
            satisfaction_rate=row.satisfaction_rate,
            by_level=dict(row.by_level),
        )

    return RatingsRead(
        departments=[satisfaction(r) for r in found.departments],
        items=[satisfaction(r) for r in found.items],
        rectifications=[
            RectificationRow(
                code=r.code,
                name=name(r),
                open=r.open,
                replied=r.replied,
                closed=r.closed,
                escalated=r.escalated,
            )
            for r in found.rectifications
        ],
    )
