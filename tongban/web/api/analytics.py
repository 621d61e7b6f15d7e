"""Analytics API: every figure of the dashboard, as JSON or CSV, and the early warnings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.analytics import queries, service
from tongban.analytics.schemas import (
    FigureInfo,
    FigureRead,
    RatingsRead,
    WarningsRead,
    csv_rows,
    figure_read,
    ratings_read,
    warnings_read,
)
from tongban.kit.clock import local_today
from tongban.kit.i18n import translate
from tongban.web import responses
from tongban.web.deps import ApiSubject, Locale, SessionDep

router = APIRouter(tags=["analytics"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not an official, or another department's figures"},
    404: {"description": "No such figure"},
    409: {"description": "The Parquet source was asked for before any export"},
    422: {"description": "Invalid filter; the body names the field"},
}


def filters(
    start: Annotated[date | None, Query(description="Cases submitted on or after")] = None,
    end: Annotated[date | None, Query(description="... and before")] = None,
    department: Annotated[str | None, Query(description="Department code")] = None,
    item: Annotated[str | None, Query(description="Service item code")] = None,
    channel: Annotated[Literal["online", "counter"] | None, Query()] = None,
    by: Annotated[Literal["item", "department", "channel"], Query()] = "department",
    period: Annotated[Literal["week", "month"], Query()] = "month",
) -> queries.Filters:
    return queries.Filters(
        today=local_today(),
        start=start,
        end=end,
        department=department or None,
        item=item or None,
        channel=channel,
        by=by,
        period=period,
    )


FiltersDep = Annotated[queries.Filters, Depends(filters)]
Source = Annotated[
    Literal["live", "parquet"] | None,
    Query(description="live database or the Parquet export (default: the deployment's)"),
]


@router.get("/api/v1/analytics/figures", response_model=list[FigureInfo])
def list_figures(subject: ApiSubject, lang: Locale) -> list[FigureInfo]:
    return [
        FigureInfo(name=name, title=translate(figure.title, lang))
        for name, figure in queries.FIGURES.items()
    ]


@router.get(
    "/api/v1/analytics/figures/{name}",
    response_model=FigureRead,
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}},
)
def get_figure(
    name: str,
    session: SessionDep,
    subject: ApiSubject,
    lang: Locale,
    chosen: FiltersDep,
    source: Source = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> FigureRead | Response:
    """One figure for the signed-in reader's departments (an official's own, a supervisor's
    all), grouped ``by`` item, department or channel; ``format=csv`` for a spreadsheet."""
    (view,) = service.figures(session, subject, names=(name,), filters=chosen, source=source)
    if format == "csv":
        return responses.csv_table(f"{name}.csv", view.result.columns, csv_rows(view.result))
    return figure_read(
        view.name,
        translate(view.title, lang),
        view.source,
        view.as_of,
        view.filters,
        view.result,
    )


class EvidenceGradesRead(BaseModel):
    item_code: str
    material: str
    required_grade: str
    counts: dict[str, int] = Field(description="Materials per credibility grade, A to D")
    below_required: int


@router.get(
    "/api/v1/analytics/evidence-grades",
    response_model=list[EvidenceGradesRead],
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}},
)
def evidence_grades(
    session: SessionDep,
    subject: ApiSubject,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[EvidenceGradesRead] | Response:
    """Credibility grades (A issued, B checked at a counter, C uploaded, D declared) of the
    materials of filed applications, per item and material, with how many were below the
    grade the item requires; for the reader's departments."""
    rows = [
        EvidenceGradesRead(
            item_code=r.item_code,
            material=r.material,
            required_grade=r.required_grade,
            counts=r.counts,
            below_required=r.below_required,
        )
        for r in service.evidence_grades(session, subject)
    ]
    if format == "csv":
        columns = ["item_code", "material", "required_grade", "A", "B", "C", "D", "below_required"]
        return responses.csv_download(
            "evidence-grades.csv",
            columns,
            [{**r.model_dump(exclude={"counts"}), **r.counts} for r in rows],
        )
    return rows


@router.get("/api/v1/analytics/warnings", response_model=WarningsRead, responses=_ERRORS)
def get_warnings(
    session: SessionDep,
    subject: ApiSubject,
    lang: Locale,
    source: Source = None,
    within: Annotated[int, Query(ge=0, le=20, description="Working days left")] = 2,
) -> WarningsRead:
    """Open cases due within ``within`` working days or overdue, and departments whose figures
    got worse from the week before last to last week."""
    found = service.early_warnings(session, subject, within_working_days=within, source=source)
    return warnings_read(found, lambda msg: translate(msg, lang))


class WarningsSent(BaseModel):
    supervisors: int
    messages: int


@router.post(
    "/api/v1/analytics/warnings/notify",
    response_model=WarningsSent,
    responses={403: {"description": "Not a supervisor or administrator"}},
)
def notify_warnings(session: SessionDep, subject: ApiSubject) -> WarningsSent:
    """Tell every supervisor of today's early warnings; a warning already sent to a supervisor
    today is not sent again."""
    told = service.notify_supervisors(session, subject)
    return WarningsSent(supervisors=told.supervisors, messages=told.messages)


@router.get("/api/v1/analytics/ratings", response_model=RatingsRead)
def get_ratings(session: SessionDep, subject: ApiSubject, lang: Locale) -> RatingsRead:
    """Satisfaction from the good/bad evaluations per department and item, and the
    rectification of bad ratings by status: an official's own department, a supervisor's all."""
    return ratings_read(service.ratings(session, subject), lang)


class MaterialSourceRead(BaseModel):
    material: str
    source: str = Field(description="generated, identity, licence, data or upload")
    replaced_by_zh: str
    replaced_by_en: str


class ItemFreeShareRead(BaseModel):
    item_code: str
    name_zh: str
    name_en: str
    required: int
    free: int
    share_pct: Decimal
    materials: list[MaterialSourceRead]


class FreeShareRead(BaseModel):
    required: int
    free: int
    share_pct: Decimal = Field(description="免提交率 over every published item, in per cent")
    items: list[ItemFreeShareRead]


@router.get(
    "/api/v1/analytics/materials-free-share",
    response_model=FreeShareRead,
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}},
)
def materials_free_share(
    session: SessionDep,
    subject: ApiSubject,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> FreeShareRead | Response:
    """免提交率: per published item and overall, the share of required materials a verified
    person (signed in with an authenticator code) holding the demo licences need not upload,
    and where each of them comes from."""
    found = service.materials_free_share(session, subject)
    if format == "csv":
        return responses.csv_table(
            "materials-free-share.csv",
            ["item_code", "required", "free", "share_pct"],
            [[i.code, i.required, i.free, str(i.share)] for i in found.items],
        )
    return FreeShareRead(
        required=found.required,
        free=found.free,
        share_pct=found.share,
        items=[
            ItemFreeShareRead(
                item_code=i.code,
                name_zh=i.name.zh,
                name_en=i.name.en,
                required=i.required,
                free=i.free,
                share_pct=i.share,
                materials=[
                    MaterialSourceRead(
                        material=code,
                        source=s.kind.value,
                        replaced_by_zh=s.replaced_by.zh,
                        replaced_by_en=s.replaced_by.en,
                    )
                    for code, s in i.sources
                ],
            )
            for i in found.items
        ],
    )
