"""The figures: what the SQL says equals what plain Python works out from the rows, on the live
database and on the Parquet export alike; and each reader sees only their departments."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.analytics.conftest import TODAY
from tests.analytics.expected import OPEN, Case, load_cases, percentile, submitted
from tests.identity.factories import load
from tongban.analytics import service
from tongban.analytics.errors import InvalidFilter
from tongban.analytics.queries import FIGURES, Filters, Result
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden

SOURCES = ["live", "parquet"]


@pytest.fixture(scope="module")
def cases(analytics_engine: Engine) -> list[Case]:
    return load_cases(analytics_engine)


def figure(
    engine: Engine,
    name: str,
    source: str,
    exported: Path,
    subject: Any = None,
    **filters: Any,
) -> Result:
    with unit_of_work(engine) as session:
        (view,) = service.figures(
            session,
            subject,
            names=(name,),
            filters=Filters(today=TODAY, **filters),
            source=source,
            directory=exported,
        )
    return view.result


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return bool(a == b)


class TestSameOnEverySource:
    @pytest.mark.parametrize("name", list(FIGURES))
    def test_live_and_parquet_agree(
        self, analytics_engine: Engine, exported: Path, name: str
    ) -> None:
        live = figure(analytics_engine, name, "live", exported, by="item")
        stored = figure(analytics_engine, name, "parquet", exported, by="item")
        assert live.columns == stored.columns
        assert len(live.rows) == len(stored.rows) > 0
        for a, b in zip(live.rows, stored.rows, strict=True):
            assert all(close(x, y) for x, y in zip(a, b, strict=True)), (a, b)


@pytest.mark.parametrize("source", SOURCES)
class TestFiguresMatchTheRows:
    def test_demand_by_month_and_department(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = figure(analytics_engine, "demand", source, exported, period="month")
        expected = Counter(
            (c.submitted_on.replace(day=1), c.department)
            for c in submitted(cases)
            if c.submitted_on
        )
        assert {(r["period"], r["key"]): r["submitted"] for r in result.records()} == expected

    def test_processing_time_by_department(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = {
            r["key"]: r
            for r in figure(analytics_engine, "processing_time", source, exported).records()
        }
        decided: dict[str, list[Case]] = {}
        for case in submitted(cases):
            if case.processing_days is not None:
                decided.setdefault(case.department, []).append(case)
        assert set(result) == set(decided)
        for department, group in decided.items():
            days = [c.processing_days for c in group if c.processing_days is not None]
            row = result[department]
            assert row["decided"] == len(group)
            assert row["median_days"] == pytest.approx(median(days))
            assert row["p90_days"] == pytest.approx(percentile(days, 0.9))
            within = [c for c in group if c.decided_on and c.decided_on <= c.promised_due_on]
            assert row["within_promised"] == pytest.approx(len(within) / len(group))

    def test_overdue_now(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = {
            r["key"]: r for r in figure(analytics_engine, "overdue", source, exported).records()
        }
        open_cases = [c for c in submitted(cases) if c.status in OPEN]
        assert sum(r["open_cases"] for r in result.values()) == len(open_cases)
        overdue = Counter(
            c.department for c in open_cases if c.promised_due_on and c.promised_due_on < TODAY
        )
        assert {k: r["overdue_promised"] for k, r in result.items() if r["overdue_promised"]} == (
            overdue
        )

    def test_returns_and_their_reasons(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = {
            r["key"]: r for r in figure(analytics_engine, "returns", source, exported).records()
        }
        for department, row in result.items():
            group = [c for c in submitted(cases) if c.department == department]
            assert row["submitted"] == len(group)
            assert row["returned"] == len([c for c in group if c.returns])
            assert row["not_resubmitted"] == len([c for c in group if c.status == "returned"])
        reasons = Counter(r for c in submitted(cases) for r in c.returns)
        top = figure(analytics_engine, "return_reasons", source, exported).records()
        assert top[0]["returns"] == reasons.most_common(1)[0][1]
        assert {r["reason"]: r["returns"] for r in top}.items() <= reasons.items()

    def test_time_in_state_finds_the_bottleneck(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        rows = figure(analytics_engine, "time_in_state", source, exported).records()
        hours: dict[tuple[str, str], list[float]] = {}
        for case in submitted(cases):
            for change, after in zip(case.changes, case.changes[1:], strict=False):
                if change.to_status != "draft":
                    spell = (after.at - change.at).total_seconds() / 3600
                    hours.setdefault((case.department, change.to_status.value), []).append(spell)
        assert {(r["key"], r["state"]) for r in rows} == set(hours)
        for row in rows:
            spells = hours[(row["key"], row["state"])]
            assert row["spells"] == len(spells)
            assert row["median_hours"] == pytest.approx(median(spells))

    def test_demand_by_item_counts_a_department_application_under_each_item(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = figure(analytics_engine, "demand", source, exported, by="item")
        expected = Counter(
            (c.submitted_on.replace(day=1), item)
            for c in submitted(cases)
            if c.submitted_on
            for item in c.items
        )
        assert {(r["period"], r["key"]): r["submitted"] for r in result.records()} == expected
        assert expected[max(k for k in expected if k[1] == "SAMR-0003")] > 0

    def test_processing_time_by_item_counts_each_covered_item(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = {
            r["key"]: r
            for r in figure(
                analytics_engine, "processing_time", source, exported, by="item"
            ).records()
        }
        decided: dict[str, list[Case]] = {}
        for case in submitted(cases):
            for item in case.items:
                if case.processing_days is not None:
                    decided.setdefault(item, []).append(case)
        assert set(result) == set(decided)
        for item, group in decided.items():
            days = [c.processing_days for c in group if c.processing_days is not None]
            assert result[item]["decided"] == len(group)
            assert result[item]["median_days"] == pytest.approx(median(days))
            # A department application is held to the longest promise of its items.
            assert result[item]["promised_days_max"] == max(c.promised_days for c in group)
        assert result["SAMR-0001"]["promised_days_max"] > result["SAMR-0001"]["promised_days_min"]

    def test_time_in_state_by_item_counts_each_covered_item(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        rows = figure(analytics_engine, "time_in_state", source, exported, by="item").records()
        spells: Counter[tuple[str, str]] = Counter()
        for case in submitted(cases):
            for change, _ in zip(case.changes, case.changes[1:], strict=False):
                if change.to_status != "draft":
                    spells.update((item, change.to_status.value) for item in case.items)
        assert {(r["key"], r["state"]): r["spells"] for r in rows} == spells

    def test_one_item_takes_the_department_applications_covering_it(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        result = figure(analytics_engine, "summary", source, exported, item="SAMR-0003", by="item")
        expected = [c for c in submitted(cases) if "SAMR-0003" in c.items]
        assert any(c.item == "SAMR-0001" for c in expected)
        assert result.records()[0]["submitted"] == len(expected)

    def test_filters_narrow_the_cases(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], source: str
    ) -> None:
        start, end = date(2026, 3, 1), date(2026, 6, 1)
        result = figure(
            analytics_engine,
            "summary",
            source,
            exported,
            item="HOUSING-0002",
            channel="online",
            start=start,
            end=end,
        )
        expected = [
            c
            for c in submitted(cases)
            if c.item == "HOUSING-0002"
            and c.channel == "online"
            and c.submitted_on
            and start <= c.submitted_on < end
        ]
        assert result.records()[0]["submitted"] == len(expected) > 0


class TestWhoSeesWhat:
    def test_an_official_sees_their_own_department_only(
        self, analytics_engine: Engine, exported: Path
    ) -> None:
        official = load(analytics_engine, "housing_officer")
        rows = figure(analytics_engine, "returns", "live", exported, official).records()
        assert [r["key"] for r in rows] == ["HOUSING"]
        by_item = figure(
            analytics_engine, "returns", "live", exported, official, by="item"
        ).records()
        assert {r["key"].split("-")[0] for r in by_item} == {"HOUSING"}

    def test_an_official_cannot_ask_for_another_department(
        self, analytics_engine: Engine, exported: Path
    ) -> None:
        official = load(analytics_engine, "housing_officer")
        with pytest.raises(Forbidden):
            figure(analytics_engine, "returns", "live", exported, official, department="SAMR")

    @pytest.mark.parametrize("username", ["supervisor", "admin"])
    def test_supervisors_and_administrators_see_every_department(
        self, analytics_engine: Engine, exported: Path, cases: list[Case], username: str
    ) -> None:
        rows = figure(
            analytics_engine, "returns", "live", exported, load(analytics_engine, username)
        ).records()
        assert {r["key"] for r in rows} == {c.department for c in submitted(cases)}

    def test_applicants_see_no_figures(self, analytics_engine: Engine, exported: Path) -> None:
        with pytest.raises(Forbidden):
            figure(analytics_engine, "summary", "live", exported, load(analytics_engine, "lisi"))


class TestBadFilters:
    def test_an_unknown_channel_is_refused(self, analytics_engine: Engine, exported: Path) -> None:
        with pytest.raises(InvalidFilter):
            figure(analytics_engine, "summary", "live", exported, channel="fax")

    def test_the_start_must_come_before_the_end(
        self, analytics_engine: Engine, exported: Path
    ) -> None:
        with pytest.raises(InvalidFilter):
            figure(
                analytics_engine,
                "summary",
                "live",
                exported,
                start=date(2026, 5, 1),
                end=date(2026, 4, 1),
            )
