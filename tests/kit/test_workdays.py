"""Working days on the mainland China calendar: weekends, public holidays and adjusted working days
(调休), as published in ``tongban/kit/data/calendar_cn.yaml``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tongban.config import get_settings
from tongban.kit.workdays import WorkCalendar, get_calendar, parse_calendar

BUILT_IN = resources.files("tongban.kit").joinpath("data/calendar_cn.yaml").read_text("utf-8")
CALENDAR = parse_calendar(BUILT_IN)

SPRING_FESTIVAL_2026 = [date(2026, 2, 15) + timedelta(days=n) for n in range(9)]  # 15 to 23 Feb
ADJUSTED_SATURDAYS_2026 = [date(2026, 2, 14), date(2026, 2, 28)]

# 2024 to 2027: the published years, the edges around them and a year not yet published.
days = st.dates(date(2024, 1, 1), date(2027, 12, 31))
counts = st.integers(0, 300)


def _published(kind: str) -> set[date]:
    """The file's dates of one kind, read independently of parse_calendar."""
    found: set[date] = set()
    for year in yaml.safe_load(BUILT_IN)["years"]:
        for entry in year.get(kind, []):
            if isinstance(entry, date):
                found.add(entry)
            else:
                span = (entry["to"] - entry["from"]).days
                found.update(entry["from"] + timedelta(days=n) for n in range(span + 1))
    return found


class TestIsWorkday:
    def test_monday_to_friday_are_working_days_and_the_weekend_is_not(self) -> None:
        week = [date(2026, 3, 2) + timedelta(days=n) for n in range(7)]  # Mon 2 to Sun 8 March
        assert [CALENDAR.is_workday(d) for d in week] == [True] * 5 + [False] * 2

    def test_every_day_of_the_2026_spring_festival_is_a_holiday(self) -> None:
        assert [d for d in SPRING_FESTIVAL_2026 if CALENDAR.is_workday(d)] == []
        # Including the five weekdays it covers.
        assert sum(d.weekday() < 5 for d in SPRING_FESTIVAL_2026) == 6

    def test_the_adjusted_saturdays_around_the_2026_spring_festival_are_working_days(
        self,
    ) -> None:
        for day in ADJUSTED_SATURDAYS_2026:
            assert day.weekday() == 5
            assert CALENDAR.is_workday(day)

    def test_every_published_holiday_is_off_and_every_published_workday_is_on(self) -> None:
        holidays, workdays = _published("holidays"), _published("workdays")
        assert len(holidays) > 50
        assert [d for d in holidays if CALENDAR.is_workday(d)] == []
        assert [d for d in workdays if not CALENDAR.is_workday(d)] == []
        assert all(d.weekday() >= 5 for d in workdays), "adjusted working days are weekend days"

    @given(day=st.dates(date(2030, 1, 1), date(2030, 12, 31)))
    def test_a_year_not_published_counts_monday_to_friday(self, day: date) -> None:
        assert CALENDAR.is_workday(day) == (day.weekday() < 5)

    def test_an_empty_calendar_knows_only_weekends(self) -> None:
        assert WorkCalendar().is_workday(date(2026, 2, 16))
        assert not WorkCalendar().is_workday(date(2026, 2, 14))


class TestAddWorkdays:
    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday + 1: the next Monday
            (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Friday before the festival: Saturday
            (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then the whole holiday is skipped
            (date(2026, 2, 12), 5, date(2026, 2, 26)),  # 13, 14, 24, 25, 26 February
            (date(2026, 2, 18), 1, date(2026, 2, 24)),  # starting inside the holiday
            (date(2026, 2, 27), 1, date(2026, 2, 28)),  # Friday + 1: the adjusted Saturday
            (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day: 1 to 7 October
        ],
    )
    def test_counts_across_weekends_holidays_and_adjusted_days(
        self, start: date, days: int, expected: date
    ) -> None:
        assert CALENDAR.add_workdays(start, days) == expected

    @pytest.mark.parametrize("start", [date(2026, 2, 16), date(2026, 3, 7), date(2026, 3, 9)])
    def test_zero_days_is_the_same_day_even_on_a_day_off(self, start: date) -> None:
        assert CALENDAR.add_workdays(start, 0) == start

    @given(start=days, n=st.integers(1, 300))
    def test_lands_on_the_first_day_that_completes_n_working_days(
        self, start: date, n: int
    ) -> None:
        due = CALENDAR.add_workdays(start, n)
        assert due > start
        assert CALENDAR.is_workday(due)
        assert CALENDAR.workdays_between(start, due) == n
        assert CALENDAR.workdays_between(start, due - timedelta(days=1)) == n - 1

    @given(start=days, n=counts, more=st.integers(1, 50))
    def test_more_days_never_end_earlier(self, start: date, n: int, more: int) -> None:
        assert CALENDAR.add_workdays(start, n + more) > CALENDAR.add_workdays(start, n)

    @given(start=days, n=counts, m=counts)
    def test_adding_in_two_steps_is_adding_at_once(self, start: date, n: int, m: int) -> None:
        halfway = CALENDAR.add_workdays(start, n)
        assert CALENDAR.add_workdays(halfway, m) == CALENDAR.add_workdays(start, n + m)


class TestWorkdaysBetween:
    def test_counts_working_days_after_the_start_up_to_the_end(self) -> None:
        assert CALENDAR.workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
        assert CALENDAR.workdays_between(date(2026, 3, 2), date(2026, 3, 8)) == 4
        assert CALENDAR.workdays_between(date(2026, 3, 2), date(2026, 3, 2)) == 0

    @given(start=days, end=days)
    def test_swapping_the_ends_changes_only_the_sign(self, start: date, end: date) -> None:
        assert CALENDAR.workdays_between(start, end) == -CALENDAR.workdays_between(end, start)

    @given(a=days, b=days, c=days)
    def test_spans_add_up(self, a: date, b: date, c: date) -> None:
        assert CALENDAR.workdays_between(a, b) + CALENDAR.workdays_between(
            b, c
        ) == CALENDAR.workdays_between(a, c)

    @given(start=days, end=days)
    def test_is_the_inverse_of_add_workdays_on_working_days(self, start: date, end: date) -> None:
        if end <= start or not CALENDAR.is_workday(end):
            end = CALENDAR.add_workdays(max(start, end), 1)
        assert CALENDAR.add_workdays(start, CALENDAR.workdays_between(start, end)) == end

    @given(start=days, end=days)
    def test_never_exceeds_the_calendar_days(self, start: date, end: date) -> None:
        assert abs(CALENDAR.workdays_between(start, end)) <= abs((end - start).days)


class TestParseCalendar:
    def test_reads_single_dates_and_ranges(self) -> None:
        calendar = parse_calendar(
            """
            years:
              - year: 2031
                holidays:
                  - 2031-01-01
                  - {from: 2031-01-22, to: 2031-01-24}
                workdays: [2031-01-25]
            """
        )
        assert calendar.holidays == {
            date(2031, 1, 1),
            date(2031, 1, 22),
            date(2031, 1, 23),
            date(2031, 1, 24),
        }
        assert calendar.extra_workdays == {date(2031, 1, 25)}

    @pytest.mark.parametrize("text", ["", "years: []", "# nothing yet\n"])
    def test_an_empty_file_is_an_empty_calendar(self, text: str) -> None:
        assert parse_calendar(text) == WorkCalendar()

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            pytest.param("years: [{holidays: [next monday]}]", "must be a date", id="not-a-date"),
            pytest.param("years: [{holidays: [2026-02-30]}]", "out of range", id="impossible-date"),
            pytest.param(
                "years: [{holidays: [2026-02-15 08:00:00]}]", "must be a date", id="a-time"
            ),
            pytest.param(
                "years: [{holidays: [{from: 2026-02-15}]}]", "from/to range", id="open-range"
            ),
            pytest.param(
                "years: [{holidays: [{from: 2026-02-23, to: 2026-02-15}]}]",
                "from/to range",
                id="reversed-range",
            ),
            pytest.param(
                "years: [{holidays: [{from: spring, to: summer}]}]",
                "from/to range",
                id="range-of-words",
            ),
            pytest.param(
                "years: [{holidays: [2026-02-15], workdays: [2026-02-15]}]",
                "2026, 2, 15",
                id="holiday-and-workday",
            ),
            pytest.param("- 2026-02-15\n", "years", id="not-a-mapping"),
            pytest.param("years: [2026]", "years", id="year-not-a-mapping"),
            pytest.param("years: {holidays: []}", "years", id="years-not-a-list"),
            pytest.param("years: [{holidays: 2026-02-15}]", "list", id="holidays-not-a-list"),
        ],
    )
    def test_a_bad_file_raises_value_error_saying_what_is_wrong(
        self, text: str, problem: str
    ) -> None:
        with pytest.raises(ValueError, match=problem):
            parse_calendar(text)


class TestGetCalendar:
    @pytest.fixture
    def fresh_caches(self) -> Iterator[None]:
        get_settings.cache_clear()
        get_calendar.cache_clear()
        yield
        get_settings.cache_clear()
        get_calendar.cache_clear()

    def test_is_the_built_in_calendar_by_default(
        self, fresh_caches: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TONGBAN_CALENDAR_FILE", raising=False)
        assert get_calendar() == CALENDAR

    def test_reads_the_file_the_deployment_names(
        self, fresh_caches: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text("years: [{holidays: [2026-03-09]}]\n", encoding="utf-8")
        monkeypatch.setenv("TONGBAN_CALENDAR_FILE", str(path))

        calendar = get_calendar()

        assert not calendar.is_workday(date(2026, 3, 9))
        assert calendar.is_workday(date(2026, 2, 16)), "the built-in holidays no longer apply"

    def test_a_bad_named_file_fails_loudly(
        self, fresh_caches: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text("years: [{holidays: [{from: 2026-03-09, to: 2026-03-01}]}]\n")
        monkeypatch.setenv("TONGBAN_CALENDAR_FILE", str(path))

        with pytest.raises(ValueError, match="from/to range"):
            get_calendar()
