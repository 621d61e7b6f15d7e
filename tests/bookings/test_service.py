"""Booking counter visits on a real database: slots on the working-day calendar (holidays and
adjusted working days, across the local day boundary), places given back by cancelling, moving
and missing, the no-show limit, the clerk's day list and the reminder the day before."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from sqlalchemy import Engine, select

from tests.bookings.conftest import SetClock, local
from tests.counter.factories import walk_in
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tongban.audit import journal
from tongban.audit import service as audit
from tongban.bookings import halls, service
from tongban.bookings.errors import (
    BookingClosed,
    BookingNotFound,
    BookingRefused,
    NotMissedYet,
    SlotUnavailable,
)
from tongban.bookings.models import BookingSlot, BookingStatus
from tongban.db.session import sessions_for, unit_of_work
from tongban.errors import Forbidden
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.kit.workdays import get_calendar
from tongban.notifications.models import Notification

HALL = "GSC-HALL"
# Two places per slot at GSC-HALL (halls.yaml).
ITEM = "PSB-0001"


def places_left(engine: Engine, starts: str, item: str = ITEM) -> int:
    with unit_of_work(engine) as session:
        slot = session.execute(
            select(BookingSlot).where(
                BookingSlot.hall_code == HALL,
                BookingSlot.item_code == item,
                BookingSlot.starts_at == local(starts),
            )
        ).scalar_one_or_none()
        return (
            halls.current().hall(HALL).places(item) if slot is None else slot.capacity - slot.taken
        )


def book(engine: Engine, person: Account, starts: str, item: str = ITEM) -> str:
    with unit_of_work(engine) as session:
        return service.book(
            session, person, hall_code=HALL, item_code=item, starts_at=local(starts)
        ).code


class TestTheCalendar:
    def test_slots_exist_only_on_working_days_adjusted_ones_included(self) -> None:
        hall = halls.current().hall(HALL)
        calendar = get_calendar()
        # National Day week (a Thursday inside the holiday), then the adjusted Saturday.
        assert halls.slots_on(hall, date(2026, 10, 1), calendar) == []
        assert halls.slots_on(hall, date(2026, 10, 11), calendar) == []  # an ordinary Sunday
        saturday = halls.slots_on(hall, date(2026, 10, 10), calendar)
        # 09:00-12:00 and 13:30-17:00 in half hours.
        assert len(saturday) == 6 + 7
        assert saturday[0].starts_at == local("2026-10-10 09:00")
        assert saturday[-1].ends_at == local("2026-10-10 17:00")

    def test_the_days_offered_start_at_the_local_midnight_and_skip_the_holiday(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        # 23:50 in Shanghai is 15:50 UTC the same day: today's slots are all over.
        clock = set_clock("2026-09-30 23:50")
        with unit_of_work(engine) as session:
            days = service.openings(session, ANONYMOUS, hall_code=HALL, item_code=ITEM)
        assert days[0].day == date(2026, 9, 30)
        assert days[0].openings == []
        # Twenty minutes on it is 1 October locally, still 30 September in UTC.
        clock.advance(minutes=20)
        with unit_of_work(engine) as session:
            days = service.openings(session, ANONYMOUS, hall_code=HALL, item_code=ITEM)
        assert days[0].day == date(2026, 10, 1)
        closed = [d.day for d in days if not d.workday]
        assert closed[:7] == [date(2026, 10, n) for n in range(1, 8)]
        first = next(d for d in days if d.openings)
        assert first.day == date(2026, 10, 8)
        assert first.openings[0].slot.starts_at == local("2026-10-08 09:00")
        assert first.openings[0].left == 2
        assert next(d for d in days if d.day == date(2026, 10, 10)).openings

    def test_a_holiday_cannot_be_booked_and_an_adjusted_working_day_can(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        set_clock("2026-10-01 00:10")
        person = walk_in(engine)
        with pytest.raises(SlotUnavailable):
            book(engine, person, "2026-10-02 09:00")
        with pytest.raises(SlotUnavailable):  # not a slot's start
            book(engine, person, "2026-10-10 09:10")
        code = book(engine, person, "2026-10-10 09:00")
        assert code.startswith("B")
        assert len(code) == 8
        assert places_left(engine, "2026-10-10 09:00") == 1


class TestPlaces:
    def test_a_full_slot_refuses_and_cancelling_gives_the_place_back(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        set_clock("2026-11-02 08:00")
        first, second, third = walk_in(engine), walk_in(engine), walk_in(engine)
        code = book(engine, first, "2026-11-03 10:00")
        book(engine, second, "2026-11-03 10:00")
        with pytest.raises(SlotUnavailable):
            book(engine, third, "2026-11-03 10:00")
        with unit_of_work(engine) as session:
            assert service.cancel(session, first, code).status is BookingStatus.CANCELLED
        assert places_left(engine, "2026-11-03 10:00") == 1
        book(engine, third, "2026-11-03 10:00")
        with unit_of_work(engine) as session, pytest.raises(BookingClosed):
            service.cancel(session, first, code)

    def test_moving_takes_the_new_place_and_gives_back_the_old(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        set_clock("2026-11-04 08:00")
        person, other, late = walk_in(engine), walk_in(engine), walk_in(engine)
        code = book(engine, person, "2026-11-05 10:00")
        with unit_of_work(engine) as session:
            moved = service.move(session, person, code, starts_at=local("2026-11-05 14:00"))
            assert moved.code == code
            assert moved.starts_at == local("2026-11-05 14:00")
        assert places_left(engine, "2026-11-05 10:00") == 2
        assert places_left(engine, "2026-11-05 14:00") == 1
        # A move to a full slot changes nothing.
        book(engine, other, "2026-11-05 15:00")
        book(engine, late, "2026-11-05 15:00")
        with unit_of_work(engine) as session, pytest.raises(SlotUnavailable):
            service.move(session, person, code, starts_at=local("2026-11-05 15:00"))
        assert places_left(engine, "2026-11-05 14:00") == 1
        with unit_of_work(engine) as session, pytest.raises(BookingNotFound):
            service.move(session, other, code, starts_at=local("2026-11-05 16:00"))

    def test_one_open_booking_per_item_per_person(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        set_clock("2026-11-06 08:00")
        person = walk_in(engine)
        book(engine, person, "2026-11-09 09:00")
        with pytest.raises(BookingRefused):
            book(engine, person, "2026-11-10 09:00")


class TestNoShows:
    def test_missed_bookings_give_the_place_back_and_limit_booking(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        clock = set_clock("2026-11-16 08:00")
        person = walk_in(engine)
        codes = []
        for day in ("2026-11-16", "2026-11-17", "2026-11-18"):
            clock.now = local(f"{day} 08:00")
            codes.append(book(engine, person, f"{day} 09:00"))
            with unit_of_work(engine) as session:
                clerk = identity_service.get_by_username(session, "counter_clerk")
                clock.now = local(f"{day} 09:14")  # they may still come
                with pytest.raises(NotMissedYet):
                    service.mark_no_show(session, clerk, codes[-1])
            # The scan, after the slot's end plus the grace minutes.
            clock.now = local(f"{day} 09:46")
            with unit_of_work(engine) as session:
                report = service.scan(session, OPERATOR)
            assert report.missed >= 1
            assert places_left(engine, f"{day} 09:00") == 2
        with unit_of_work(engine) as session:
            statuses = {service.get(session, person, c).status for c in codes}
            clerk_sees = service.day_list(
                session,
                identity_service.get_by_username(session, "counter_clerk"),
                hall_code=HALL,
                day=date(2026, 11, 18),
            )
        assert statuses == {BookingStatus.NO_SHOW}
        assert any(v.booking.code == codes[-1] for v in clerk_sees)
        # Three missed in 30 days: no booking until the first is 30 days old.
        with pytest.raises(BookingRefused) as refused:
            book(engine, person, "2026-11-19 09:00")
        assert refused.value.params["date"] == "2026-12-16 09:00"
        clock.now = local("2026-12-16 09:01")
        book(engine, person, "2026-12-16 10:00")

    def test_the_clerk_marks_a_no_show_after_the_grace_minutes(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        clock = set_clock("2026-11-19 08:00")
        person = walk_in(engine)
        code = book(engine, person, "2026-11-19 10:00")
        clock.now = local("2026-11-19 10:16")
        with unit_of_work(engine) as session:
            clerk = identity_service.get_by_username(session, "counter_clerk")
            assert service.mark_no_show(session, clerk, code).status is BookingStatus.NO_SHOW
        # Back while the slot still runs: someone at the hall can take it.
        assert places_left(engine, "2026-11-19 10:00") == 2
        book(engine, walk_in(engine), "2026-11-19 10:00")


class TestTheCounter:
    def test_the_clerk_marks_arrival_on_the_day_and_the_place_stays_used(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        clock = set_clock("2026-11-20 08:00")
        person = walk_in(engine)
        code = book(engine, person, "2026-11-23 11:00")
        with unit_of_work(engine) as session:
            clerk = identity_service.get_by_username(session, "counter_clerk")
            with pytest.raises(BookingClosed):  # not today
                service.mark_arrived(session, clerk, code)
        clock.now = local("2026-11-23 10:50")
        with unit_of_work(engine) as session:
            clerk = identity_service.get_by_username(session, "counter_clerk")
            listed = service.day_list(session, clerk, hall_code=HALL, day=date(2026, 11, 23))
            assert [v.name for v in listed if v.booking.code == code] == ["窗口申请人"]
            assert service.mark_arrived(session, clerk, code).status is BookingStatus.ARRIVED
        assert places_left(engine, "2026-11-23 11:00") == 1
        with unit_of_work(engine) as session:
            assert service.get(session, person, code).status is BookingStatus.ARRIVED

    def test_only_a_clerk_sees_the_day_list_and_only_the_person_their_booking(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        set_clock("2026-11-24 08:00")
        person, other = walk_in(engine), walk_in(engine)
        code = book(engine, person, "2026-11-24 13:30")
        with unit_of_work(engine) as session:
            with pytest.raises(Forbidden):
                service.day_list(session, person, hall_code=HALL, day=date(2026, 11, 24))
            with pytest.raises(BookingNotFound):
                service.get(session, other, code)
            with pytest.raises(Forbidden):
                service.scan(session, person)


class TestReminders:
    def reminders(self, engine: Engine, code: str) -> list[Notification]:
        with unit_of_work(engine) as session:
            return list(
                session.execute(
                    select(Notification).where(
                        Notification.event == service.REMINDER,
                        Notification.reference.startswith(code),
                    )
                ).scalars()
            )

    def test_the_day_before_by_local_date_once_and_again_after_a_move(
        self, engine: Engine, set_clock: SetClock
    ) -> None:
        clock = set_clock("2026-10-08 10:00")
        person = walk_in(engine)
        code = book(engine, person, "2026-10-10 09:00", item="PSB-0002")
        # 23:00 on the 8th: the visit is the day after tomorrow.
        clock.now = local("2026-10-08 23:00")
        with unit_of_work(engine) as session:
            service.scan(session, OPERATOR)
        assert self.reminders(engine, code) == []
        # 07:30 on the 9th locally is still the 8th in UTC: the visit is tomorrow.
        clock.now = local("2026-10-09 07:30")
        assert clock.now.astimezone(UTC).date() == date(2026, 10, 8)
        with unit_of_work(engine) as session:
            assert service.scan(session, OPERATOR).reminded >= 1
        sent = self.reminders(engine, code)
        assert {n.channel.value for n in sent} == {"sms", "email", "in_app"}
        sms = next(n for n in sent if n.channel.value == "sms")
        assert code in sms.body
        assert "2026-10-10 09:00" in sms.body
        assert "临江市政务服务中心" in sms.body
        # Once: the next runs send nothing more.
        clock.advance(hours=1)
        with unit_of_work(engine) as session:
            service.scan(session, OPERATOR)
        assert len(self.reminders(engine, code)) == 3
        # Moved to Monday: reminded again on Sunday, for the new time.
        with unit_of_work(engine) as session:
            service.move(session, person, code, starts_at=local("2026-10-12 14:00"))
        clock.now = local("2026-10-11 18:00")
        with unit_of_work(engine) as session:
            service.scan(session, OPERATOR)
        sent = self.reminders(engine, code)
        assert len(sent) == 6
        assert sum("2026-10-12 14:00" in n.body for n in sent) == 3


def test_every_change_is_audited(engine: Engine, set_clock: SetClock) -> None:
    set_clock("2026-11-25 08:00")
    person = walk_in(engine)
    code = book(engine, person, "2026-11-26 09:00")
    with unit_of_work(engine) as session:
        service.move(session, person, code, starts_at=local("2026-11-26 09:30"))
        service.cancel(session, person, code)
    journal.sequence_pending(sessions_for(engine), wait=True)
    with unit_of_work(engine) as session:
        entries = audit.entries_for(session, target_type="booking", target_id=code)
    assert [e.action for e in entries] == ["booking.made", "booking.moved", "booking.cancelled"]
    assert places_left(engine, "2026-11-26 09:00") == 2
    assert places_left(engine, "2026-11-26 09:30") == 2
