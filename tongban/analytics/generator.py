"""A year of realistic cases for the demo catalog, written into the real application tables with
their status history, so the dashboard, the early warnings and the benchmark have something to
show.

The history is synthetic but follows the state machine (``applications.states.TRANSITIONS``):
demand has seasons (the Spring Festival trough, the spring and autumn peaks) and a weekly rhythm;
counter cases come in on working days during office hours; some cases are returned for
correction with a reason naming one of the item's materials, and some of those are never
resubmitted; one department is slow, and slower still in the last weeks (so the early warning
has a department to name). Cases whose next step would lie after ``end`` stay open where they
are, so some are overdue now.

Rows are inserted in bulk, not through ``applications.service.act``: that stamps each change
with the present time, and a year of history is the point here.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from tongban.analytics import repository
from tongban.applications.models import Application, StatusChange
from tongban.applications.states import TRANSITIONS, Action, Status
from tongban.catalog.models import ServiceItem
from tongban.identity.models import Account, AccountKind
from tongban.kit import ids
from tongban.kit.clock import local_zone
from tongban.kit.workdays import WorkCalendar

APPLICANT_PREFIX = "gen_"
# Not an argon2 hash: generated applicants cannot sign in.
NO_PASSWORD = "!generated"
BATCH = 2_000

# Demand by month (January = index 0): the Spring Festival trough in February, peaks in spring
# (business starts, school enrolment) and autumn, a dip in the National Day week's October.
SEASON = (0.95, 0.55, 1.2, 1.25, 1.1, 1.05, 0.95, 0.9, 1.15, 0.85, 1.05, 1.1)

RETURN_REASONS = (
    "{m}不清晰，请重新上传",
    "缺少{m}，请补正",
    "{m}已过有效期，请提供有效的{m}",
    "表单信息与{m}不一致，请核对后重新提交",
)
REJECT_REASONS = ("不属于本部门受理范围", "申请人不符合申请条件")
DENY_REASON = "经审查，不符合法定条件"


@dataclass
class GenerationReport:
    cases: int = 0
    events: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class _Event:
    action: Action | None
    source: Status | None
    target: Status
    at: datetime
    actor: Account
    reason: str = ""


@dataclass
class _Case:
    item: ServiceItem
    applicant: Account
    created: datetime
    events: list[_Event]
    counter: bool
    promised_due_on: date | None = None
    statutory_due_on: date | None = None


class _Clock:
    """Working-time arithmetic in the deployment's zone: officials act on working days between
    9:00 and 17:00, applicants whenever they like."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.zone = local_zone()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def office_hours(self, moment: datetime) -> datetime:
        """``moment`` if it falls in office hours, else the next opening (9:00 on a workday)."""
        here = self.local(moment)
        day = here.date()
        if self.calendar.is_workday(day) and time(9) <= here.time() < time(17):
            return moment
        if not (self.calendar.is_workday(day) and here.time() < time(9)):
            day = self.calendar.add_workdays(day, 1)
        return datetime.combine(day, time(9), self.zone).astimezone(UTC)

    def after_working_days(self, moment: datetime, days: float, rng: random.Random) -> datetime:
        """An official's step ``days`` working days after ``moment`` (fractions are hours of the
        8-hour working day), always within office hours."""
        start = self.local(self.office_hours(moment))
        whole = int(days)
        day = self.calendar.add_workdays(start.date(), whole) if whole else start.date()
        minutes = (start.hour - 9) * 60 + start.minute + (days - whole) * 480
        if minutes >= 480:
            day = self.calendar.add_workdays(day, 1)
            minutes -= 480
        at = datetime.combine(day, time(9), self.zone) + timedelta(
            minutes=minutes, seconds=rng.randrange(60)
        )
        return at.astimezone(UTC)


def generate(
    session: Session,
    *,
    items: Sequence[ServiceItem],
    officials: dict[int, list[Account]],
    calendar: WorkCalendar,
    cases: int,
    end: datetime,
    days: int = 365,
    seed: int = 1,
    slow_department: str = "HOUSING",
    applicants: int = 200,
) -> GenerationReport:
    """Write ``cases`` applications filed over the ``days`` days before ``end``."""
    rng = random.Random(seed)
    clock = _Clock(calendar)
    usable = [i for i in items if officials.get(i.department_id)]
    if not usable:
        raise ValueError("no item has a department with officials to handle it")
    people = _applicants(session, applicants)
    weights = _popularity(usable, rng)
    item_profiles = {i.id: _profile(i, rng, slow_department) for i in usable}
    first_day = clock.local(end).date() - timedelta(days=days)
    report = GenerationReport(start=first_day, end=clock.local(end).date())
    numbers: set[str] = set()
    simulated = (
        _simulate(
            rng,
            clock,
            rng.choices(usable, weights)[0],
            day,
            people,
            officials,
            item_profiles,
            end,
            slow_department,
        )
        for day in _days(rng, clock, first_day, days, cases)
    )
    for chunk in _chunks(simulated, BATCH):
        _write(session, chunk, numbers, rng, report)
    return report


def _applicants(session: Session, wanted: int) -> list[Account]:
    existing = list(repository.accounts_named(session, APPLICANT_PREFIX))
    rows = [
        {
            "username": f"{APPLICANT_PREFIX}{n:05d}",
            "display_name": f"示例申请人{n:05d}",
            "kind": AccountKind.APPLICANT,
            "password_hash": NO_PASSWORD,
        }
        for n in range(len(existing) + 1, wanted + 1)
    ]
    if rows:
        session.execute(insert(Account), rows)
        existing = list(repository.accounts_named(session, APPLICANT_PREFIX))
    return existing


def _popularity(items: Sequence[ServiceItem], rng: random.Random) -> list[float]:
    """Some items are asked for far more than others (a Zipf-like spread in a random order)."""
    ranks = list(range(1, len(items) + 1))
    rng.shuffle(ranks)
    return [1 / r**0.9 for r in ranks]


@dataclass(frozen=True)
class _Profile:
    return_rate: float
    speed: float  # median share of the promised time a decision takes
    slow: bool


def _profile(item: ServiceItem, rng: random.Random, slow_department: str) -> _Profile:
    slow = item.department.code == slow_department
    return _Profile(
        return_rate=rng.uniform(0.03, 0.16) + (0.06 if slow else 0.0),
        speed=rng.uniform(0.35, 0.6) * (1.9 if slow else 1.0),
        slow=slow,
    )


def _days(
    rng: random.Random, clock: _Clock, first_day: date, days: int, cases: int
) -> Iterator[date]:
    """Filing days in order, drawn by season, weekday and a slow growth over the year."""
    calendar = clock.calendar
    dates = [first_day + timedelta(days=n) for n in range(1, days + 1)]
    weights = [
        SEASON[d.month - 1]
        * (1.0 if calendar.is_workday(d) else 0.3)
        * (0.9 + 0.2 * n / max(days, 1))
        for n, d in enumerate(dates)
    ]
    yield from sorted(rng.choices(dates, weights, k=cases))


def _simulate(
    rng: random.Random,
    clock: _Clock,
    item: ServiceItem,
    day: date,
    people: Sequence[Account],
    officials: dict[int, list[Account]],
    profiles: dict[int, _Profile],
    end: datetime,
    slow_department: str,
) -> _Case:
    profile = profiles[item.id]
    staff = officials[item.department_id]
    counter = (not item.online) or (item.offline and rng.random() < 0.3)
    applicant = rng.choice(people)
    clerk = rng.choice(staff)
    opener = clerk if counter else applicant
    if counter:
        created = clock.office_hours(
            datetime.combine(day, time(9), clock.zone).astimezone(UTC)
            + timedelta(minutes=rng.randrange(8 * 60))
        )
    else:
        hour = min(23.9, max(0.0, rng.gauss(14, 4)))
        created = datetime.combine(day, time(0), clock.zone).astimezone(UTC) + timedelta(hours=hour)
    if created > end:
        # Today's later hours have not come yet: the case was opened a little before ``end``.
        created = end - timedelta(minutes=rng.uniform(1, 120))
    case = _Case(item, applicant, created, [], counter)
    events = case.events
    events.append(_Event(None, None, Status.DRAFT, created, opener))
    now = created + timedelta(minutes=rng.uniform(3, 60 if counter else 240))

    def step(action: Action, at: datetime, actor: Account, reason: str = "") -> bool:
        """Record the step if it happened before ``end``; False stops the case where it is."""
        if at > end:
            return False
        source = events[-1].target
        assert source in TRANSITIONS[action].sources, (action, source)
        events.append(_Event(action, source, TRANSITIONS[action].target, at, actor, reason))
        return True

    roll = rng.random()
    if roll < 0.03:
        return case  # a draft never sent
    if roll < 0.04:
        step(Action.WITHDRAW, now, applicant)
        return case
    if not step(Action.SUBMIT, now, opener):
        return case
    # Intake: returned for correction (perhaps more than once), rejected, or accepted.
    returns = 0
    while True:
        now = clock.after_working_days(now, rng.expovariate(1 / 0.4), rng)
        if rng.random() < profile.return_rate / (1 + 2 * returns):
            material = rng.choice(item.materials).name_zh if item.materials else "申请材料"
            reason = rng.choice(RETURN_REASONS).format(m=material)
            if not step(Action.RETURN, now, clerk, reason):
                return case
            returns += 1
            if rng.random() < 0.12:
                return case  # the applicant never comes back
            now += timedelta(hours=rng.expovariate(1 / 40) + 1)
            if not step(Action.SUBMIT, now, opener):
                return case
            continue
        if rng.random() < 0.02:
            step(Action.REJECT, now, clerk, rng.choice(REJECT_REASONS))
            return case
        break
    if not step(Action.ACCEPT, now, clerk):
        return case
    accepted_on = clock.local(now).date()
    case.promised_due_on = clock.calendar.add_workdays(accepted_on, item.promised_days)
    case.statutory_due_on = clock.calendar.add_workdays(accepted_on, item.statutory_days)
    # The decision takes a share of the promised time, lognormally spread; the slow
    # department's share grows over the last six weeks.
    budget = max(item.promised_days, 0.25)
    factor = profile.speed * math.exp(rng.gauss(0, 0.45))
    if profile.slow:
        weeks_left = (end - now).days / 7
        factor *= 1 + max(0.0, 6 - weeks_left) * 0.12
    total = budget * factor
    now = clock.after_working_days(now, total * 0.25, rng)
    if not step(Action.START_REVIEW, now, rng.choice(staff)):
        return case
    now = clock.after_working_days(now, total * 0.6, rng)
    if rng.random() < 0.04:
        step(Action.DENY, now, rng.choice(staff), DENY_REASON)
        return case
    if not step(Action.APPROVE, now, rng.choice(staff)):
        return case
    now = clock.after_working_days(now, total * 0.15, rng)
    step(Action.COMPLETE, now, rng.choice(staff))
    return case


def _chunks(cases: Iterator[_Case], size: int) -> Iterator[list[_Case]]:
    chunk: list[_Case] = []
    for case in cases:
        chunk.append(case)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write(
    session: Session,
    chunk: list[_Case],
    numbers: set[str],
    rng: random.Random,
    report: GenerationReport,
) -> None:
    zone = local_zone()
    rows = [_application_row(case, numbers, rng, zone) for case in chunk]
    # Into the table by column names: the cases carry no form values (an empty stored form).
    table = Application.__table__
    assert isinstance(table, Table)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    application_ids = list(session.execute(stmt, rows).scalars())
    changes: list[dict[str, Any]] = []
    for application_id, case in zip(application_ids, chunk, strict=True):
        report.by_status[case.events[-1].target.value] += 1
        changes.extend(
            {
                "application_id": application_id,
                "action": e.action,
                "from_status": e.source,
                "to_status": e.target,
                "actor_id": e.actor.id,
                "actor_name": e.actor.display_name,
                "at": e.at,
                "reason": e.reason,
            }
            for e in case.events
        )
    session.execute(insert(StatusChange), changes)
    report.cases += len(chunk)
    report.events += len(changes)


def _application_row(
    case: _Case, numbers: set[str], rng: random.Random, zone: Any
) -> dict[str, Any]:
    events = case.events
    first = {e.action: e.at for e in reversed(events) if e.action is not None}
    last = events[-1]
    reasons = [e.reason for e in events if e.reason]
    day = case.created.astimezone(zone).strftime("%Y%m%d")
    number = ""
    while not number or number in numbers:
        body = f"TB{day}{rng.randrange(10**6):06d}"
        number = body + ids.check_characters(body)
    numbers.add(number)
    completed = first.get(Action.COMPLETE)
    result = None
    if completed is not None:
        year = completed.astimezone(zone).year
        body = f"{case.item.department.code}{year}{rng.randrange(10**8):08d}"
        result = body + ids.check_characters(body)
    return {
        "number": number,
        "item_id": case.item.id,
        "item_version": case.item.version,
        "department_id": case.item.department_id,
        "applicant_id": case.applicant.id,
        "status": last.target,
        "form_data": {},
        "prefill": {},
        "submitted_at": max((e.at for e in events if e.action is Action.SUBMIT), default=None),
        "accepted_at": first.get(Action.ACCEPT),
        "promised_due_on": case.promised_due_on if Action.ACCEPT in first else None,
        "statutory_due_on": case.statutory_due_on if Action.ACCEPT in first else None,
        "decided_at": first.get(Action.APPROVE) or first.get(Action.DENY),
        "completed_at": completed,
        "last_reason": reasons[-1] if reasons else "",
        "result_number": result,
        "result_note": "",
        "created_at": case.created,
    }
