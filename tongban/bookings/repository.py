"""Booking queries. Places are taken and given back only here, by conditional UPDATEs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.bookings.models import OPEN, Booking, BookingSlot, BookingStatus
from tongban.identity.models import Account


def slots(
    session: Session, hall_code: str, item_code: str, start: datetime, end: datetime
) -> dict[datetime, BookingSlot]:
    """The stored slots of an item at a hall starting in [start, end), by start."""
    stmt = select(BookingSlot).where(
        BookingSlot.hall_code == hall_code,
        BookingSlot.item_code == item_code,
        BookingSlot.starts_at >= start,
        BookingSlot.starts_at < end,
    )
    return {slot.starts_at: slot for slot in session.execute(stmt).scalars()}


def slot_row(
    session: Session,
    *,
    hall_code: str,
    item_code: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
) -> BookingSlot:
    """The slot's row, made on its first booking. Two first bookings at once both try the
    INSERT: the unique key lets one in and the other finds that row."""

    def find() -> BookingSlot | None:
        stmt = select(BookingSlot).where(
            BookingSlot.hall_code == hall_code,
            BookingSlot.item_code == item_code,
            BookingSlot.starts_at == starts_at,
        )
        return session.execute(stmt).scalar_one_or_none()

    found = find()
    if found is not None:
        return found
    row = BookingSlot(
        hall_code=hall_code,
        item_code=item_code,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        taken=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = find()
        assert found is not None, "a unique violation means the row exists"
        return found
    return row


def take_place(session: Session, slot: BookingSlot) -> bool:
    """Take one place if one is left. The UPDATE's condition is checked on the row as locked,
    so of two takers of the last place one waits for the other and then finds none."""
    stmt = (
        update(BookingSlot)
        .where(BookingSlot.id == slot.id, BookingSlot.taken < BookingSlot.capacity)
        .values(taken=BookingSlot.taken + 1)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(stmt)
    taken = isinstance(result, CursorResult) and result.rowcount == 1
    session.expire(slot, ["taken"])
    return taken


def give_back_place(session: Session, slot_id: int) -> None:
    stmt = (
        update(BookingSlot)
        .where(BookingSlot.id == slot_id, BookingSlot.taken > 0)
        .values(taken=BookingSlot.taken - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)
    slot = session.get(BookingSlot, slot_id)
    if slot is not None:
        session.expire(slot, ["taken"])


def by_code(session: Session, code: str, *, for_update: bool = False) -> Booking | None:
    """``for_update``: locked until the transaction ends, so two changes of one booking (a
    cancel and a move at once) cannot both give its place back."""
    stmt = select(Booking).where(Booking.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def code_exists(session: Session, code: str) -> bool:
    return session.execute(select(Booking.id).where(Booking.code == code)).first() is not None


def of_person(session: Session, person_id: int, *, limit: int = 50) -> Sequence[Booking]:
    stmt = (
        select(Booking)
        .where(Booking.person_id == person_id)
        .order_by(Booking.starts_at.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def open_of_person(session: Session, person_id: int, now: datetime) -> Sequence[Booking]:
    """The person's bookings still ahead of them (those whose slot ended wait for the scan)."""
    stmt = select(Booking).where(
        Booking.person_id == person_id,
        Booking.status.in_(OPEN),
        Booking.ends_at > now,
    )
    return session.execute(stmt).scalars().all()


def no_shows_since(session: Session, person_id: int, since: datetime) -> Sequence[datetime]:
    """When the person's missed bookings since ``since`` were, oldest first."""
    stmt = (
        select(Booking.starts_at)
        .where(
            Booking.person_id == person_id,
            Booking.status == BookingStatus.NO_SHOW,
            Booking.starts_at >= since,
        )
        .order_by(Booking.starts_at)
    )
    return session.execute(stmt).scalars().all()


def at_hall(session: Session, hall_code: str, start: datetime, end: datetime) -> Sequence[Booking]:
    """Every booking of a hall with a slot starting in [start, end), in order of time."""
    stmt = (
        select(Booking)
        .where(Booking.hall_code == hall_code, Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.id)
    )
    return session.execute(stmt).scalars().all()


def open_starting(session: Session, start: datetime, end: datetime) -> Sequence[Booking]:
    stmt = (
        select(Booking)
        .where(Booking.status.in_(OPEN), Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.id)
    )
    return session.execute(stmt).scalars().all()


def open_ended_before(session: Session, moment: datetime) -> Sequence[Booking]:
    stmt = (
        select(Booking)
        .where(Booking.status.in_(OPEN), Booking.ends_at < moment)
        .order_by(Booking.id)
        .with_for_update(skip_locked=True)
    )
    return session.execute(stmt).scalars().all()


def names(session: Session, person_ids: set[int]) -> dict[int, str]:
    """Display names of the people with bookings, for the clerk's list."""
    if not person_ids:
        return {}
    stmt = select(Account.id, Account.display_name).where(Account.id.in_(person_ids))
    return {row.id: row.display_name for row in session.execute(stmt)}
