"""Two people after the last place of a slot at the same moment, on PostgreSQL: one gets it, the
other is told it is gone, and the slot never holds more bookings than places."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select

from tests.bookings.conftest import SetClock, local
from tests.counter.factories import walk_in
from tongban.bookings import service
from tongban.bookings.errors import SlotUnavailable
from tongban.bookings.models import Booking, BookingSlot, BookingStatus
from tongban.db.session import unit_of_work

HALL, ITEM, SLOT = "GSC-HALL", "PSB-0003", "2026-12-01 09:00"


def test_the_last_place_goes_to_one_of_two_at_once(engine: Engine, set_clock: SetClock) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("needs two writers at once: PostgreSQL (SQLite lets one writer in at a time)")
    set_clock("2026-11-30 08:00")
    first, second, third = walk_in(engine), walk_in(engine), walk_in(engine)
    with unit_of_work(engine) as session:
        service.book(session, first, hall_code=HALL, item_code=ITEM, starts_at=local(SLOT))
    outcome: dict[str, object] = {}

    def book_in_other_transaction() -> None:
        try:
            with unit_of_work(engine) as session:
                service.book(session, third, hall_code=HALL, item_code=ITEM, starts_at=local(SLOT))
            outcome["third"] = "booked"
        except SlotUnavailable as exc:
            outcome["third"] = exc

    with unit_of_work(engine) as session:
        service.book(session, second, hall_code=HALL, item_code=ITEM, starts_at=local(SLOT))
        # The second person has taken the last place but not committed: the third's UPDATE
        # waits on the slot's row instead of reading a count that is about to change.
        other = threading.Thread(target=book_in_other_transaction)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive(), "the other transaction should wait for this one"
    other.join(timeout=10)
    assert isinstance(outcome["third"], SlotUnavailable)
    with unit_of_work(engine) as session:
        slot = session.execute(
            select(BookingSlot).where(
                BookingSlot.hall_code == HALL,
                BookingSlot.item_code == ITEM,
                BookingSlot.starts_at == local(SLOT),
            )
        ).scalar_one()
        held = session.execute(
            select(func.count(Booking.id)).where(
                Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED
            )
        ).scalar_one()
    assert slot.taken == slot.capacity == held == 2
