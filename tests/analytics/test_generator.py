"""The demo generator writes a year of cases that obey the state machine and look like a real
year: seasons, a slow department, returns with reasons, counter cases in office hours."""

from __future__ import annotations

from collections import Counter
from statistics import median

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from tests.analytics.conftest import CASES, END
from tests.analytics.expected import Case, load_cases, submitted
from tests.audit.helpers import sequenced
from tests.identity.factories import load
from tongban.analytics import service
from tongban.applications.models import Application
from tongban.applications.states import TRANSITIONS, Status
from tongban.audit.models import AuditEntry
from tongban.catalog.models import ServiceItem
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.kit.clock import local_zone
from tongban.kit.workdays import get_calendar


@pytest.fixture(scope="module")
def cases(analytics_engine: Engine) -> list[Case]:
    return load_cases(analytics_engine)


class TestGenerateDemoCases:
    def test_writes_the_cases_asked_for(self, cases: list[Case]) -> None:
        assert len(cases) == CASES

    def test_every_history_follows_the_state_machine(self, cases: list[Case]) -> None:
        for case in cases:
            first, *rest = case.changes
            assert (first.action, first.from_status, first.to_status) == (None, None, Status.DRAFT)
            assert first.at <= END, "nothing happens after the end"
            previous = first
            for change in rest:
                assert change.action is not None
                transition = TRANSITIONS[change.action]
                assert change.from_status == previous.to_status, case.number
                assert change.from_status in transition.sources, case.number
                assert change.to_status is transition.target
                assert change.at >= previous.at
                assert change.at <= END
                assert bool(change.reason) == transition.reason_required
                previous = change

    def test_the_application_row_agrees_with_its_history(
        self, analytics_engine: Engine, cases: list[Case]
    ) -> None:
        with Session(analytics_engine) as session:
            rows = {a.number: a for a in session.scalars(select(Application))}
        for case in cases:
            row = rows[case.number]
            assert row.status is case.status
            assert (row.accepted_at is not None) == (case.promised_due_on is not None)
            if row.status is Status.COMPLETED:
                assert row.result_number
                assert row.completed_at is not None

    def test_demand_has_seasons(self, cases: list[Case]) -> None:
        by_month = Counter(c.submitted_on.month for c in submitted(cases) if c.submitted_on)
        # The Spring Festival trough against the spring peak.
        assert by_month[2] < by_month[3] * 0.75

    def test_one_department_is_slow(self, cases: list[Case]) -> None:
        days: dict[str, list[float]] = {}
        for case in cases:
            if case.processing_days is not None:
                days.setdefault(case.department, []).append(case.processing_days)
        slow = median(days.pop("HOUSING"))
        assert all(slow > median(others) for others in days.values())

    def test_returns_name_a_material_of_the_item(
        self, analytics_engine: Engine, cases: list[Case]
    ) -> None:
        with Session(analytics_engine) as session:
            items = {
                i.code: i
                for i in session.scalars(
                    select(ServiceItem).options(selectinload(ServiceItem.materials))
                )
            }
            returned = [c for c in cases if c.returns]
            assert 0.03 * len(cases) < len(returned) < 0.3 * len(cases)
            for case in returned:
                names = [m.name_zh for m in items[case.item].materials]
                assert all(any(n in r for n in names) for r in case.returns), case.returns
        assert any(c.status is Status.RETURNED for c in cases), "some never come back"

    def test_counter_cases_are_opened_by_officials_in_office_hours(self, cases: list[Case]) -> None:
        counter = [c for c in cases if c.channel == "counter"]
        assert 0.15 * len(cases) < len(counter) < 0.5 * len(cases)
        for case in counter:
            opened = case.changes[0].at.astimezone(local_zone())
            assert 9 <= opened.hour < 17
            assert get_calendar().is_workday(opened.date())

    def test_some_cases_are_still_open_and_some_overdue(self, cases: list[Case]) -> None:
        open_cases = [c for c in cases if c.status in {Status.ACCEPTED, Status.IN_REVIEW}]
        assert open_cases
        assert any(c.promised_due_on and c.promised_due_on < END.date() for c in open_cases)

    def test_the_generation_is_audited(self, analytics_engine: Engine) -> None:
        with Session(analytics_engine) as session:
            entry = (
                sequenced(session)
                .scalars(select(AuditEntry).where(AuditEntry.action == "analytics.demo_generated"))
                .one()
            )
        assert entry.details["cases"] == CASES

    def test_only_the_operator_may_generate(self, analytics_engine: Engine) -> None:
        official = load(analytics_engine, "samr_officer")
        with unit_of_work(analytics_engine) as session, pytest.raises(Forbidden):
            service.generate_demo_cases(session, official, cases=10)
