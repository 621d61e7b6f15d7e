"""Service halls and their booking rules, from a data file: opening hours, slot length and
the places each slot has per item; and the slots of a day, on the working-day calendar.

A slot exists only on a working day of ``kit.workdays`` (holidays are closed, adjusted working
days 调休 open) and only inside opening hours, in the deployment's time zone; it is stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.bookings.errors import HallFileInvalid, HallNotFound
from tongban.config import get_settings
from tongban.kit import datafiles
from tongban.kit.clock import local_zone
from tongban.kit.workdays import WorkCalendar

# "HH:MM" as text: YAML 1.1 reads an unquoted 13:30 as the number 810.
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Period(_Strict):
    opens: str = Field(pattern=CLOCK_TIME)
    closes: str = Field(pattern=CLOCK_TIME)

    @property
    def opens_at(self) -> time:
        return time.fromisoformat(self.opens)

    @property
    def closes_at(self) -> time:
        return time.fromisoformat(self.closes)


class Hall(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,30}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    address_zh: str = Field(min_length=1)
    address_en: str = Field(min_length=1)
    # The departments whose counter items can be booked here.
    departments: list[str] = Field(min_length=1)
    hours: list[Period] = Field(min_length=1)
    slot_minutes: int = Field(ge=5, le=240)
    # Places per slot for each item; ``capacities`` sets it for single items.
    capacity: int = Field(ge=1, le=1000)
    capacities: dict[str, int] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        previous = time.min
        for period in self.hours:
            if not previous <= period.opens_at < period.closes_at:
                raise ValueError("opening hours must be in order and not overlap")
            if _minutes(period.opens_at, period.closes_at) < self.slot_minutes:
                raise ValueError("each period of opening hours must hold at least one slot")
            previous = period.closes_at
        if any(not 1 <= places <= 1000 for places in self.capacities.values()):
            raise ValueError("a capacity is between 1 and 1000 places")
        return self

    def places(self, item_code: str) -> int:
        return self.capacities.get(item_code, self.capacity)


class Rules(_Strict):
    # How far ahead one may book, in calendar days from today.
    days_ahead: int = Field(ge=1, le=90)
    # Open bookings one person may hold at once (one per item in any case).
    max_open: int = Field(ge=1, le=20)
    # Minutes after a slot's start after which a person not yet arrived may be marked missing
    # by the clerk; the scan marks those not arrived by the slot's end plus this.
    grace_minutes: int = Field(ge=0, le=240)
    # A person who missed ``no_show_limit`` bookings within ``no_show_days`` days may not book
    # until the oldest of those falls out of the window.
    no_show_limit: int = Field(ge=1, le=100)
    no_show_days: int = Field(ge=1, le=365)


class HallFile(_Strict):
    rules: Rules
    halls: list[Hall] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        codes = [hall.code for hall in self.halls]
        if len(set(codes)) != len(codes):
            raise ValueError("hall codes must be unique")
        return self

    def hall(self, code: str) -> Hall:
        found = next((hall for hall in self.halls if hall.code == code), None)
        if found is None:
            raise HallNotFound("There is no service hall {code}.", field="hall", code=code)
        return found


def _minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def load(path: Path) -> HallFile:
    found: HallFile = datafiles.load_yaml(path, HallFile, HallFileInvalid)
    return found


@lru_cache
def current() -> HallFile:
    path = get_settings().halls_file or Path(
        str(resources.files("tongban.bookings").joinpath("data/halls.yaml"))
    )
    return load(path)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime

    @property
    def key(self) -> str:
        """How a slot is named in an address: its start in UTC, to the minute."""
        return self.starts_at.strftime("%Y%m%dT%H%MZ")


def parse_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def slots_on(hall: Hall, day: date, calendar: WorkCalendar) -> list[Slot]:
    """The slots of ``hall`` on the local date ``day``: none on a day off."""
    if not calendar.is_workday(day):
        return []
    zone = local_zone()
    step = timedelta(minutes=hall.slot_minutes)
    slots = []
    for period in hall.hours:
        start = datetime.combine(day, period.opens_at, zone)
        closes = datetime.combine(day, period.closes_at, zone)
        while start + step <= closes:
            slots.append(Slot(start.astimezone(UTC), (start + step).astimezone(UTC)))
            start += step
    return slots


def slot_at(hall: Hall, starts_at: datetime, calendar: WorkCalendar) -> Slot | None:
    """The slot of ``hall`` starting at ``starts_at``, if there is one."""
    day = starts_at.astimezone(local_zone()).date()
    return next((s for s in slots_on(hall, day, calendar) if s.starts_at == starts_at), None)
