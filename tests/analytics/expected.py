"""The figures worked out in plain Python from the application rows, to check the SQL against."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tongban.applications.models import Application, CoveredItem, StatusChange
from tongban.applications.states import Action, Status
from tongban.catalog.models import Department, ServiceItem
from tongban.identity.models import Account, AccountKind
from tongban.kit.clock import local_zone

OPEN = {Status.SUBMITTED, Status.ACCEPTED, Status.IN_REVIEW, Status.APPROVED}


@dataclass
class Case:
    number: str
    item: str
    # Its own item first, then those it covers (a bundle's department application).
    items: list[str]
    department: str
    channel: str
    changes: list[StatusChange]
    # The longest of its items' promises: the one the case is held to.
    promised_days: int
    promised_due_on: date | None
    statutory_due_on: date | None

    def first(self, *actions: Action) -> datetime | None:
        return next((c.at for c in self.changes if c.action in actions), None)

    @property
    def status(self) -> Status:
        return self.changes[-1].to_status

    @property
    def submitted_on(self) -> date | None:
        at = self.first(Action.SUBMIT)
        return at.astimezone(local_zone()).date() if at else None

    @property
    def returns(self) -> list[str]:
        return [c.reason for c in self.changes if c.action is Action.RETURN]

    @property
    def processing_days(self) -> float | None:
        accepted, decided = self.first(Action.ACCEPT), self.first(Action.APPROVE, Action.DENY)
        if accepted is None or decided is None:
            return None
        return (decided - accepted).total_seconds() / 86400

    @property
    def decided_on(self) -> date | None:
        at = self.first(Action.APPROVE, Action.DENY)
        return at.astimezone(local_zone()).date() if at else None


def load_cases(engine: Engine) -> list[Case]:
    with Session(engine) as session:
        catalog = {i.id: i for i in session.scalars(select(ServiceItem))}
        items = {i.id: i.code for i in catalog.values()}
        departments = {d.id: d.code for d in session.scalars(select(Department))}
        kinds = {a.id: a.kind for a in session.scalars(select(Account))}
        covered: dict[int, list[int]] = {}
        for row in session.scalars(select(CoveredItem).order_by(CoveredItem.position)):
            covered.setdefault(row.application_id, []).append(row.item_id)
        changes: dict[int, list[StatusChange]] = {}
        for change in session.scalars(select(StatusChange).order_by(StatusChange.id)):
            changes.setdefault(change.application_id, []).append(change)
        return [
            Case(
                number=a.number,
                item=items[a.item_id],
                items=[items[i] for i in (a.item_id, *covered.get(a.id, []))],
                promised_days=max(
                    catalog[i].promised_days for i in (a.item_id, *covered.get(a.id, []))
                ),
                department=departments[a.department_id],
                channel="online"
                if kinds[changes[a.id][0].actor_id] is AccountKind.APPLICANT
                else "counter",
                changes=changes[a.id],
                promised_due_on=a.promised_due_on,
                statutory_due_on=a.statutory_due_on,
            )
            for a in session.scalars(select(Application))
        ]


def submitted(cases: list[Case]) -> list[Case]:
    return [c for c in cases if c.submitted_on is not None]


def percentile(values: list[float], q: float) -> float:
    """percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
