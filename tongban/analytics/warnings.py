"""Early warning for supervisors: cases about to pass their promised time limit (or already
past it), and departments whose figures got worse from last week to the week before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tongban.analytics import queries
from tongban.kit.i18n import N_
from tongban.kit.workdays import WorkCalendar

# A department is worsening when, with enough decisions in both weeks to mean something, the
# share decided within the promised time drops this much, or the median time grows this much.
MIN_DECISIONS = 5
SHARE_DROP = 0.10
MEDIAN_GROWTH = 1.25


@dataclass(frozen=True)
class AtRisk:
    number: str
    item_code: str
    department_code: str
    status: str
    promised_due_on: date
    statutory_due_on: date | None
    working_days_left: int  # negative: overdue by that many working days

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


@dataclass(frozen=True)
class WeekFigures:
    week: date
    decided: int
    median_days: float | None
    within_promised: float | None


@dataclass(frozen=True)
class Worsening:
    department_code: str
    last_week: WeekFigures
    week_before: WeekFigures
    reasons: list[str]  # English msgids: what got worse


@dataclass
class Warnings:
    today: date
    as_of: datetime | None
    at_risk: list[AtRisk] = field(default_factory=list)
    worsening: list[Worsening] = field(default_factory=list)


def compute(
    backend: queries.Backend,
    *,
    today: date,
    calendar: WorkCalendar,
    department: str | None,
    within_working_days: int,
    as_of: datetime | None,
    horizon: date,
) -> Warnings:
    filters = queries.Filters(today=today, department=department, by="department")
    found = Warnings(today=today, as_of=as_of)
    for row in queries.run_figure(
        backend, queries.AT_RISK, filters, {"horizon": horizon}
    ).records():
        left = calendar.workdays_between(today, row["promised_due_on"])
        if left <= within_working_days:
            found.at_risk.append(
                AtRisk(
                    number=row["number"],
                    item_code=row["item_code"],
                    department_code=row["department_code"],
                    status=row["status"],
                    promised_due_on=row["promised_due_on"],
                    statutory_due_on=row["statutory_due_on"],
                    working_days_left=left,
                )
            )
    found.at_risk.sort(key=lambda r: (r.working_days_left, r.number))
    this_week = today - timedelta(days=today.weekday())
    last, before = this_week - timedelta(days=7), this_week - timedelta(days=14)
    weekly: dict[str, dict[date, WeekFigures]] = {}
    for row in queries.run_figure(
        backend, queries.WEEKLY, filters, {"weeks_from": before, "weeks_to": this_week}
    ).records():
        weekly.setdefault(row["key"], {})[row["week"]] = WeekFigures(
            row["week"], row["decided"], row["median_days"], row["within_promised"]
        )
    for code, weeks in sorted(weekly.items()):
        a, b = weeks.get(last), weeks.get(before)
        if a is None or b is None or min(a.decided, b.decided) < MIN_DECISIONS:
            continue
        reasons = []
        if (
            a.within_promised is not None
            and b.within_promised is not None
            and b.within_promised - a.within_promised >= SHARE_DROP
        ):
            reasons.append(N_("Fewer cases decided within the promised time"))
        if (
            a.median_days is not None
            and b.median_days
            and (a.median_days >= b.median_days * MEDIAN_GROWTH)
        ):
            reasons.append(N_("Cases take longer to decide"))
        if reasons:
            found.worsening.append(Worsening(code, a, b, reasons))
    return found
