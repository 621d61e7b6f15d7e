"""A clock the bookings tests set to a local time of their choosing, and people who book."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tests.identity.factories import MovingClock
from tongban.kit import clock

SetClock = Callable[[str], MovingClock]


def local(text: str) -> datetime:
    """``2026-10-10 09:00`` in the deployment's time zone, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.local_zone())


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> SetClock:
    """Stop the clock at a local time; the returned clock can be moved on."""

    def at(text: str) -> MovingClock:
        fake = MovingClock(local(text).astimezone(UTC))
        monkeypatch.setattr(clock, "utcnow", fake)
        return fake

    return at
