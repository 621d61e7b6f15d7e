"""The service statistics dashboard, its CSV downloads and the early-warning list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tongban.analytics import queries, service
from tongban.analytics.errors import InvalidFilter
from tongban.analytics.schemas import csv_rows
from tongban.applications.states import Status
from tongban.catalog import service as catalog_service
from tongban.errors import TongbanError
from tongban.identity.models import Account
from tongban.kit.clock import local_today
from tongban.kit.i18n import N_, pick, translate
from tongban.web import responses
from tongban.web.deps import PageUser, PostedForm, SessionDep, locale
from tongban.web.pages import charts, labels
from tongban.web.pages.templating import render

router = APIRouter(include_in_schema=False)
CHANNELS = {"online": N_("Applied online"), "counter": N_("At the counter")}
BY = {"department": N_("Department"), "item": N_("Service"), "channel": N_("Channel")}
PERIODS = {"month": N_("Month"), "week": N_("Week")}
DASHBOARD = (
    "summary",
    "demand",
    "processing_time",
    "overdue",
    "time_in_state",
    "returns",
    "return_reasons",
)


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(
            "{value} is not a date (YYYY-MM-DD).", field=field, value=value
        ) from None


def page_filters(
    start: str = "",
    end: str = "",
    department: str = "",
    item: str = "",
    channel: str = "",
    by: str = "department",
    period: str = "month",
) -> queries.Filters:
    """The form's values as filters; empty fields mean "any". A fresh dashboard covers the last
    twelve months. The service checks the values."""
    today = local_today()
    return queries.Filters(
        today=today,
        start=_date(start, "start") if start or end else today - timedelta(days=365),
        end=_date(end, "end"),
        department=department or None,
        item=item or None,
        channel=channel or None,
        by=cast(queries.By, by),
        period=cast(queries.Period, period),
    )


PageFilters = Annotated[queries.Filters, Depends(page_filters)]


def _names(session: SessionDep, subject: Account, lang: str) -> dict[str, dict[str, str]]:
    items = catalog_service.search(session, subject)
    departments = catalog_service.list_departments(session, subject)
    return {
        "item": {i.code: pick(i, "name", lang) for i in items},
        "department": {d.code: pick(d, "name", lang) for d in departments},
        "channel": {k: translate(v, lang) for k, v in CHANNELS.items()},
    }


def _state_name(state: str, lang: str) -> str:
    try:
        return translate(labels.STATUS[Status(state)], lang)
    except ValueError:
        return state


@router.get("/analytics", response_class=HTMLResponse)
def dashboard(
    request: Request, session: SessionDep, subject: PageUser, chosen: PageFilters
) -> Response:
    views = {v.name: v for v in service.figures(session, subject, names=DASHBOARD, filters=chosen)}
    lang = locale(request)
    names = _names(session, subject, lang)
    key_names = names[chosen.by]

    def name(key: str) -> str:
        return key_names.get(key, key)

    summary = views["summary"].result.records()[0]
    demand: dict[Any, int] = {}
    for row in views["demand"].result.records():
        demand[row["period"]] = demand.get(row["period"], 0) + row["submitted"]
    label_format = "%Y-%m" if chosen.period == "month" else "%m-%d"
    processing = views["processing_time"].result.records()
    states: dict[str, list[float]] = {}
    bottleneck: dict[str, tuple[str, float]] = {}
    for row in views["time_in_state"].result.records():
        total = states.setdefault(row["state"], [0.0, 0.0])
        total[0] += row["total_hours"]
        total[1] += row["spells"]
        if (
            row["state"] in queries.DEPARTMENT_STATES
            and row["total_hours"] > bottleneck.get(row["key"], ("", -1.0))[1]
        ):
            bottleneck[row["key"]] = (row["state"], row["total_hours"])
    query = request.url.query
    ratings = service.ratings(session, subject)
    return render(
        request,
        "analytics/dashboard.html",
        subject,
        ratings=ratings,
        rectified={r.code: r for r in ratings.rectifications},
        satisfaction_chart=charts.hbars(
            [
                (r.name_zh if lang == "zh_CN" else r.name_en, [float(r.satisfaction_rate)])
                for r in ratings.departments
            ],
            [translate("Satisfied", lang)],
            title=translate("Share of ratings satisfied or better", lang),
            fmt=lambda v: f"{v:.0f}%",
            maximum=100,
        ),
        filters=chosen,
        views=views,
        summary=summary,
        names=names,
        name=name,
        state_name=lambda s: _state_name(s, lang),
        everything=service.sees_every_department(session, subject),
        channels=CHANNELS,
        by_options=BY,
        periods=PERIODS,
        bottleneck=bottleneck,
        query=query,
        demand_chart=charts.columns(
            [p.strftime(label_format) for p in demand],
            list(demand.values()),
            title=translate("Applications submitted", lang),
        ),
        time_chart=charts.hbars(
            [(name(r["key"]), [r["median_days"], r["p90_days"]]) for r in processing],
            [translate("Median", lang), translate("90th percentile", lang)],
            title=translate("Processing time in days", lang),
            fmt=lambda v: f"{v:.1f}",
        ),
        within_chart=charts.hbars(
            [
                (name(r["key"]), [100 * r["within_promised"], 100 * r["within_statutory"]])
                for r in processing
            ],
            [
                translate("Within the promised time", lang),
                translate("Within the statutory time", lang),
            ],
            title=translate("Share decided within the time limit", lang),
            fmt=lambda v: f"{v:.0f}%",
            maximum=100,
        ),
        state_chart=charts.hbars(
            [
                (_state_name(s, lang), [t[0] / t[1] / 24 if t[1] else 0.0])
                for s, t in sorted(states.items(), key=lambda kv: -kv[1][0])
            ],
            [translate("Average days in the state", lang)],
            title=translate("Time spent in each state", lang),
            fmt=lambda v: f"{v:.1f}",
        ),
    )


@router.get("/analytics/figures/{name}.csv")
def figure_csv(name: str, session: SessionDep, subject: PageUser, chosen: PageFilters) -> Response:
    (view,) = service.figures(session, subject, names=(name,), filters=chosen)
    return responses.csv_table(f"{name}.csv", view.result.columns, csv_rows(view.result))


@router.get("/analytics/warnings", response_class=HTMLResponse)
def warnings_page(request: Request, session: SessionDep, subject: PageUser) -> Response:
    return _warnings_page(request, session, subject)


@router.post("/analytics/warnings/notify")
def notify_warnings(
    request: Request, session: SessionDep, subject: PageUser, form: PostedForm
) -> Response:
    """The page's button: tell every supervisor of today's warnings (once a day each)."""
    try:
        told = service.notify_supervisors(session, subject)
    except TongbanError as exc:
        return _warnings_page(request, session, subject, error=exc)
    return RedirectResponse(
        f"/analytics/warnings?sent={told.messages}&to={told.supervisors}", status_code=303
    )


def _warnings_page(
    request: Request,
    session: SessionDep,
    subject: PageUser,
    *,
    error: TongbanError | None = None,
) -> Response:
    found = service.early_warnings(session, subject)
    lang = locale(request)
    names = _names(session, subject, lang)
    return render(
        request,
        "analytics/warnings.html",
        subject,
        found=found,
        names=names,
        state_name=lambda s: _state_name(s, lang),
        everything=service.sees_every_department(session, subject),
        may_notify=service.may_notify_supervisors(subject),
        sent=request.query_params.get("sent"),
        sent_to=request.query_params.get("to"),
        status_code=error.status_code if error else 200,
        error=translate(error.message, lang, **error.params) if error else None,
    )
