"""Working-day arithmetic on a calendar kept as data (public holidays and adjusted working days)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeGuard

import yaml

from tongban.config import get_settings


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Weekend days that are working days (调休).
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5

    def add_workdays(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (the start day itself is not counted).

        With ``days == 0`` the answer is ``start``: an on-the-spot item is due the same day.
        """
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when earlier)."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_workday(start + timedelta(days=offset))
        )


def parse_calendar(text: str) -> WorkCalendar:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not isinstance(data.get("years", []), list):
        raise ValueError("a calendar file is a mapping with a list of years under 'years'")
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year in data.get("years", []):
        if not isinstance(year, dict):
            raise ValueError(f"each of the years must be a mapping: {year!r}")
        holidays.update(_dates(year.get("holidays", [])))
        workdays.update(_dates(year.get("workdays", [])))
    overlap = holidays & workdays
    if overlap:
        raise ValueError(f"dates are both holiday and working day: {sorted(overlap)}")
    return WorkCalendar(frozenset(holidays), frozenset(workdays))


def _dates(entries: object) -> list[date]:
    if not isinstance(entries, list):
        raise ValueError(f"holidays and workdays must each be a list: {entries!r}")
    result: list[date] = []
    for entry in entries:
        if _is_date(entry):
            result.append(entry)
        elif (
            isinstance(entry, dict)
            and _is_date(entry.get("from"))
            and _is_date(entry.get("to"))
            and entry["from"] <= entry["to"]
        ):
            day, last = entry["from"], entry["to"]
            while day <= last:
                result.append(day)
                day += timedelta(days=1)
        else:
            # A reversed range would otherwise add no day at all, silently.
            raise ValueError(
                f"calendar entry must be a date or a from/to range of dates, from <= to: {entry!r}"
            )
    return result


def _is_date(value: object) -> TypeGuard[date]:
    # YAML reads "2026-02-15 08:00" as a datetime, which never equals a date.
    return isinstance(value, date) and not isinstance(value, datetime)


@lru_cache
def get_calendar() -> WorkCalendar:
    path: Path | None = get_settings().calendar_file
    if path is not None:
        return parse_calendar(path.read_text(encoding="utf-8"))
    text = resources.files("tongban.kit").joinpath("data/calendar_cn.yaml").read_text("utf-8")
    return parse_calendar(text)
