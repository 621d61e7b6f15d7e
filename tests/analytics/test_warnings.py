"""Early warning: open cases close to (or past) their promised time limit, and departments whose
figures got worse from the week before last to last week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.analytics.conftest import TODAY
from tests.analytics.expected import OPEN, load_cases, submitted
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import load
from tongban.analytics import queries, service, warnings
from tongban.analytics.sources import APPLICATION_EVENTS
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.kit.workdays import get_calendar


class TestAtRisk:
    @pytest.mark.parametrize("source", ["live", "parquet"])
    def test_lists_every_open_case_within_two_working_days_of_its_limit(
        self, analytics_engine: Engine, exported: Path, source: str
    ) -> None:
        with unit_of_work(analytics_engine) as session:
            found = service.early_warnings(
                session, OPERATOR, today=TODAY, source=source, directory=exported
            )
        calendar = get_calendar()
        expected = {
            c.number: calendar.workdays_between(TODAY, c.promised_due_on)
            for c in submitted(load_cases(analytics_engine))
            if c.status in OPEN
            and c.promised_due_on is not None
            and calendar.workdays_between(TODAY, c.promised_due_on) <= 2
        }
        assert expected
        assert {c.number: c.working_days_left for c in found.at_risk} == expected
        assert [c.working_days_left for c in found.at_risk] == sorted(
            c.working_days_left for c in found.at_risk
        )

    def test_an_official_sees_their_own_department_only(self, analytics_engine: Engine) -> None:
        with unit_of_work(analytics_engine) as session:
            found = service.early_warnings(
                session, load(analytics_engine, "housing_officer"), today=TODAY
            )
        assert found.at_risk
        assert {c.department_code for c in found.at_risk} == {"HOUSING"}

    def test_applicants_get_no_warnings(self, analytics_engine: Engine) -> None:
        with unit_of_work(analytics_engine) as session, pytest.raises(Forbidden):
            service.early_warnings(session, load(analytics_engine, "zhangsan"), today=TODAY)

    def test_the_api_lists_them_for_a_supervisor(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "supervisor")
        body = analytics_client.get("/api/v1/analytics/warnings?within=5", headers=headers).json()
        assert body["at_risk"]
        assert all(c["working_days_left"] <= 5 for c in body["at_risk"])
        assert {c["overdue"] for c in body["at_risk"]} <= {True, False}


def events_of(cases: list[tuple[str, datetime, float, int]]) -> queries.Backend:
    """A hand-made history: (department, accepted at, days to decide, promised days)."""
    rows: list[tuple[object, ...]] = []
    event = 0
    for number, (department, accepted, days, promised) in enumerate(cases, start=1):
        decided = accepted + timedelta(days=days)
        due = get_calendar().add_workdays(accepted.date(), promised)
        for action, source, target, at in (
            (None, None, "draft", accepted - timedelta(hours=2)),
            ("submit", "draft", "submitted", accepted - timedelta(hours=1)),
            ("accept", "submitted", "accepted", accepted),
            ("start_review", "accepted", "in_review", accepted + timedelta(hours=1)),
            ("approve", "in_review", "approved", decided),
        ):
            event += 1
            rows.append(
                (
                    event,
                    number,
                    f"N{number}",
                    f"{department}-0001",
                    None,  # covering no other item
                    department,
                    "online",
                    action,
                    source,
                    target,
                    at,
                    "",
                    promised,
                    promised + 5,
                    due,
                    due,
                )
            )
    return queries.ArrowBackend(APPLICATION_EVENTS.to_arrow(rows, "Asia/Shanghai"))


class TestWorsening:
    # Monday 16 November 2026: "last week" is 9-15 November, the week before 2-8 November.
    TODAY = date(2026, 11, 16)
    BEFORE = datetime(2026, 11, 2, 2, tzinfo=UTC)
    LAST = datetime(2026, 11, 9, 2, tzinfo=UTC)

    def compute(self, cases: list[tuple[str, datetime, float, int]]) -> warnings.Warnings:
        return warnings.compute(
            events_of(cases),
            today=self.TODAY,
            calendar=get_calendar(),
            department=None,
            within_working_days=2,
            as_of=None,
            horizon=self.TODAY,
        )

    def test_a_department_deciding_later_than_promised_is_named(self) -> None:
        steady = [("TAX", self.BEFORE, 0.5, 3)] * 6 + [("TAX", self.LAST, 0.5, 3)] * 6
        slipping = [("HOUSING", self.BEFORE, 1.0, 3)] * 6 + [("HOUSING", self.LAST, 6.0, 3)] * 6
        found = self.compute(steady + slipping)
        assert [w.department_code for w in found.worsening] == ["HOUSING"]
        (housing,) = found.worsening
        assert housing.last_week.within_promised == 0.0
        assert housing.week_before.within_promised == 1.0
        assert set(housing.reasons) == {
            "Fewer cases decided within the promised time",
            "Cases take longer to decide",
        }

    def test_too_few_decisions_say_nothing(self) -> None:
        few = [("HOUSING", self.BEFORE, 1.0, 3)] * 6 + [("HOUSING", self.LAST, 6.0, 3)] * 2
        assert self.compute(few).worsening == []
