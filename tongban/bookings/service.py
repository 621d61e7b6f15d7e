"""Booking a counter visit (预约办理): a person picks a slot of an item at a service hall, from
the item's guide or their case; moves or cancels it; is reminded the day before; and the
counter clerk sees the day's bookings and marks who arrived.

Places: a slot has ``capacity`` places per item; a booking takes one by a conditional UPDATE
(``repository.take_place``), never by counting first, so the last place goes to one person only.
Cancelling, moving and missing a booking give its place back.

Missed bookings (no-shows): a booking not marked arrived by its slot's end plus the grace
minutes is marked missed by the scan (``scan``, ``tongban bookings scan``); a clerk may mark
it earlier, from the slot's start plus the grace minutes, which gives the place back while
someone can still use it. A missed booking no longer counts among the person's open bookings
(their quota of ``max_open``), but ``no_show_limit`` missed bookings within ``no_show_days``
days stop them booking until the oldest of those is older than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.audit import service as audit
from tongban.bookings import halls, policy, repository
from tongban.bookings.errors import (
    BookingClosed,
    BookingNotFound,
    BookingRefused,
    NotMissedYet,
    SlotUnavailable,
)
from tongban.bookings.halls import Hall, Slot
from tongban.bookings.models import Booking, BookingStatus
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit import clock, ids
from tongban.kit.clock import local_date, local_zone
from tongban.kit.i18n import LocalText
from tongban.kit.workdays import get_calendar
from tongban.notifications import events as notifications

REMINDER = "booking_reminder"


def _start_of(day: date) -> datetime:
    """The start of a local date, in UTC."""
    return datetime.combine(day, time.min, local_zone()).astimezone(UTC)


def _item(session: Session, subject: Principal, item_code: str) -> ItemRead:
    return catalog_service.published_item(session, subject, item_code)


def _hall_for(hall_code: str, item: ItemRead) -> Hall:
    hall = halls.current().hall(hall_code)
    if not item.offline or item.department.code not in hall.departments:
        raise SlotUnavailable(
            "{item} cannot be booked at {hall}.", field="hall", item=item.code, hall=hall.code
        )
    return hall


def halls_for(session: Session, subject: Principal, item_code: str) -> list[Hall]:
    """The halls where a visit for ``item_code`` can be booked (none for an online-only item)."""
    policy.require_see_slots(subject)
    item = _item(session, subject, item_code)
    if not item.offline:
        return []
    return [hall for hall in halls.current().halls if item.department.code in hall.departments]


@dataclass(frozen=True)
class Opening:
    slot: Slot
    left: int


@dataclass(frozen=True)
class Day:
    day: date
    workday: bool
    openings: list[Opening]


def openings(session: Session, subject: Principal, *, hall_code: str, item_code: str) -> list[Day]:
    """The days one may book ``item_code`` at ``hall_code`` from today, with each slot's free
    places; a day off (a weekend, a holiday) is listed with no slot."""
    policy.require_see_slots(subject)
    hall = _hall_for(hall_code, _item(session, subject, item_code))
    now = clock.utcnow()
    today = local_date(now)
    calendar = get_calendar()
    days = [today + timedelta(days=n) for n in range(halls.current().rules.days_ahead + 1)]
    stored = repository.slots(
        session, hall.code, item_code, _start_of(days[0]), _start_of(days[-1] + timedelta(1))
    )
    places = hall.places(item_code)
    found = []
    for day in days:
        listed = []
        for slot in halls.slots_on(hall, day, calendar):
            if slot.ends_at <= now:
                continue
            row = stored.get(slot.starts_at)
            listed.append(Opening(slot, row.capacity - row.taken if row else places))
        found.append(Day(day, calendar.is_workday(day), listed))
    return found


def _bookable(hall: Hall, starts_at: datetime, now: datetime) -> Slot:
    slot = halls.slot_at(hall, starts_at.astimezone(UTC), get_calendar())
    last_day = local_date(now) + timedelta(days=halls.current().rules.days_ahead)
    if slot is None or slot.ends_at <= now or local_date(slot.starts_at) > last_day:
        raise SlotUnavailable(
            "There is no free slot at {time}: please choose one of the times offered.",
            field="starts_at",
            time=starts_at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M"),
        )
    return slot


def _take(session: Session, hall: Hall, item_code: str, slot: Slot) -> int:
    """Take a place in ``slot``; the slot row's id."""
    row = repository.slot_row(
        session,
        hall_code=hall.code,
        item_code=item_code,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=hall.places(item_code),
    )
    if not repository.take_place(session, row):
        raise SlotUnavailable(
            "No place is left at {time}: please choose another time.",
            field="starts_at",
            time=_local(slot.starts_at),
        )
    return row.id


def _local(moment: datetime) -> str:
    return moment.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def _check_quota(session: Session, person: Account, item_code: str, now: datetime) -> None:
    rules = halls.current().rules
    open_ = repository.open_of_person(session, person.id, now)
    same = next((b for b in open_ if b.item_code == item_code), None)
    if same is not None:
        raise BookingRefused(
            "You have booked this service already ({code}): move that booking instead.",
            code=same.code,
        )
    if len(open_) >= rules.max_open:
        raise BookingRefused(
            "You hold {count} bookings, the most one person may: cancel one first.",
            count=len(open_),
        )
    missed = repository.no_shows_since(session, person.id, now - timedelta(days=rules.no_show_days))
    if len(missed) >= rules.no_show_limit:
        # Booking is open again once fewer than the limit are left inside the window.
        again = missed[len(missed) - rules.no_show_limit] + timedelta(days=rules.no_show_days)
        raise BookingRefused(
            "You missed {count} bookings in the last {days} days: you may book again from {date}.",
            count=len(missed),
            days=rules.no_show_days,
            date=_local(again),
        )


def _case_for(session: Session, person: Account, number: str, item_code: str) -> str:
    application = applications_service.get(session, person, number)
    if item_code not in [item.code for item in application.items]:
        raise BookingRefused(
            "Case {number} is not for {item}.", field="item", number=number, item=item_code
        )
    return application.number


def _new_code(session: Session) -> str:
    while True:
        code = ids.booking_code()
        if not repository.code_exists(session, code):
            return code


def book(
    session: Session,
    subject: Principal,
    *,
    hall_code: str,
    item_code: str,
    starts_at: datetime,
    application_number: str | None = None,
) -> Booking:
    person = policy.require_book(subject)
    hall = _hall_for(hall_code, _item(session, person, item_code))
    number = (
        _case_for(session, person, application_number, item_code) if application_number else None
    )
    now = clock.utcnow()
    _check_quota(session, person, item_code, now)
    slot = _bookable(hall, starts_at, now)
    slot_id = _take(session, hall, item_code, slot)
    booking = Booking(
        code=_new_code(session),
        person_id=person.id,
        slot_id=slot_id,
        hall_code=hall.code,
        item_code=item_code,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        application_number=number,
        status=BookingStatus.BOOKED,
        created_at=now,
        changed_at=now,
    )
    session.add(booking)
    session.flush()
    _audit(session, person, "booking.made", booking, starts_at=slot.starts_at.isoformat())
    return booking


def _audit(
    session: Session, actor: Principal, action: str, booking: Booking, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="booking",
        target_id=booking.code,
        details={"hall": booking.hall_code, "item": booking.item_code, **details},
    )


def _load(session: Session, code: str, *, for_update: bool = False) -> Booking:
    booking = repository.by_code(session, code.strip().upper(), for_update=for_update)
    if booking is None:
        raise BookingNotFound("There is no booking {code} of yours.", code=code)
    return booking


def _require_open(booking: Booking, now: datetime) -> None:
    if booking.status is not BookingStatus.BOOKED or booking.ends_at <= now:
        raise BookingClosed("Booking {code} is over and cannot change.", code=booking.code)


def get(session: Session, subject: Principal, code: str) -> Booking:
    booking = _load(session, code)
    policy.require_own(subject, booking)
    return booking


def mine(session: Session, subject: Principal) -> Sequence[Booking]:
    person = policy.require_book(subject)
    return repository.of_person(session, person.id)


def move(session: Session, subject: Principal, code: str, *, starts_at: datetime) -> Booking:
    """Another time at the same hall: the new place is taken before the old one goes back, so a
    move to a full slot leaves the booking as it was."""
    booking = _load(session, code, for_update=True)
    person = policy.require_own(subject, booking)
    now = clock.utcnow()
    _require_open(booking, now)
    hall = halls.current().hall(booking.hall_code)
    slot = _bookable(hall, starts_at, now)
    if slot.starts_at == booking.starts_at:
        return booking
    slot_id = _take(session, hall, booking.item_code, slot)
    repository.give_back_place(session, booking.slot_id)
    moved_from = booking.starts_at
    booking.slot_id = slot_id
    booking.starts_at = slot.starts_at
    booking.ends_at = slot.ends_at
    booking.changed_at = now
    _audit(
        session,
        person,
        "booking.moved",
        booking,
        starts_at=slot.starts_at.isoformat(),
        moved_from=moved_from.isoformat(),
    )
    return booking


def cancel(session: Session, subject: Principal, code: str) -> Booking:
    booking = _load(session, code, for_update=True)
    person = policy.require_own(subject, booking)
    now = clock.utcnow()
    _require_open(booking, now)
    _close(session, person, booking, BookingStatus.CANCELLED, now)
    return booking


def _close(
    session: Session,
    actor: Principal,
    booking: Booking,
    status: BookingStatus,
    now: datetime,
) -> None:
    """End a booking; every end but an arrival gives its place back."""
    if status is not BookingStatus.ARRIVED:
        repository.give_back_place(session, booking.slot_id)
    booking.status = status
    booking.changed_at = now
    _audit(
        session, actor, f"booking.{status.value}", booking, starts_at=booking.starts_at.isoformat()
    )


@dataclass(frozen=True)
class Visitor:
    booking: Booking
    name: str
    item: LocalText


def day_list(session: Session, subject: Principal, *, hall_code: str, day: date) -> list[Visitor]:
    """The counter clerk's list: every booking of ``hall_code`` on ``day``, in order of time."""
    policy.require_counter(subject)
    hall = halls.current().hall(hall_code)
    rows = repository.at_hall(session, hall.code, _start_of(day), _start_of(day + timedelta(1)))
    names = repository.names(session, {b.person_id for b in rows})
    snapshot = catalog_service.published(session, subject)
    visitors = []
    for booking in rows:
        item = snapshot.item(booking.item_code)
        visitors.append(
            Visitor(
                booking,
                names.get(booking.person_id, ""),
                LocalText(item.name_zh, item.name_en)
                if item
                else LocalText(booking.item_code, booking.item_code),
            )
        )
    return visitors


def mark_arrived(session: Session, subject: Principal, code: str) -> Booking:
    """The person came to the counter on the booking's day."""
    clerk = policy.require_counter(subject)
    booking = _load(session, code, for_update=True)
    now = clock.utcnow()
    if booking.status is not BookingStatus.BOOKED or local_date(booking.starts_at) != local_date(
        now
    ):
        raise BookingClosed(
            "Booking {code} is not open for today: it cannot be marked arrived.",
            code=booking.code,
        )
    _close(session, clerk, booking, BookingStatus.ARRIVED, now)
    return booking


def mark_no_show(session: Session, subject: Principal, code: str) -> Booking:
    """The person has not come by the slot's start plus the grace minutes: their place goes
    back while someone can still use it."""
    clerk = policy.require_counter(subject)
    booking = _load(session, code, for_update=True)
    now = clock.utcnow()
    if booking.status is not BookingStatus.BOOKED:
        raise BookingClosed("Booking {code} is over and cannot change.", code=booking.code)
    grace = timedelta(minutes=halls.current().rules.grace_minutes)
    if now < booking.starts_at + grace:
        raise NotMissedYet(
            "The person may still come: a booking is missed only from {time}.",
            time=_local(booking.starts_at + grace),
        )
    _close(session, clerk, booking, BookingStatus.NO_SHOW, now)
    return booking


@dataclass(frozen=True)
class ScanReport:
    reminded: int
    missed: int


def scan(session: Session, subject: Principal) -> ScanReport:
    """The scheduled job (``tongban bookings scan``, run every hour or so): remind everyone
    whose visit is tomorrow (local time; once per booking and slot, so running it again, or a
    move to another day, never repeats a reminder for the same time), and mark missed the
    bookings not arrived by their slot's end plus the grace minutes."""
    policy.require_scan(subject)
    now = clock.utcnow()
    tomorrow = local_date(now) + timedelta(days=1)
    reminded = 0
    due = repository.open_starting(session, _start_of(tomorrow), _start_of(tomorrow + timedelta(1)))
    names = catalog_service.published(session, subject)
    for booking in due:
        person = session.get(Account, booking.person_id)
        assert person is not None, "a booking's person is a foreign key"
        hall = halls.current().hall(booking.hall_code)
        item = names.item(booking.item_code)
        sent = notifications.notify(
            session,
            event=REMINDER,
            recipient=person,
            reference=f"{booking.code}@{booking.starts_at.strftime('%Y%m%dT%H%MZ')}",
            personalisation={
                "name": person.display_name,
                "number": booking.code,
                "item": LocalText(item.name_zh, item.name_en) if item else booking.item_code,
                "hall": LocalText(hall.name_zh, hall.name_en),
                "time": _local(booking.starts_at),
            },
            once=True,
        )
        reminded += bool(sent)
    if reminded:
        audit.record(
            session,
            actor=subject,
            action="booking.reminded",
            target_type="bookings",
            target_id=tomorrow.isoformat(),
            details={"bookings": reminded},
        )
    grace = timedelta(minutes=halls.current().rules.grace_minutes)
    missed = repository.open_ended_before(session, now - grace)
    for booking in missed:
        _close(session, subject, booking, BookingStatus.NO_SHOW, now)
    return ScanReport(reminded, len(missed))
