"""The one source of "now", so tests and benchmarks can reason about time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tongban.config import get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the deployment's time zone."""
    return moment.astimezone(local_zone()).date()


def local_today() -> date:
    return local_date(utcnow())
