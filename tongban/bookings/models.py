"""Slots with their places, and the bookings that take them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db.base import Base


def _enum(cls: type[Any]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"  # holds a place
    ARRIVED = "arrived"  # the clerk saw the person at the counter
    CANCELLED = "cancelled"  # by the person; the place went back
    NO_SHOW = "no_show"  # not arrived in time; the place went back, and it counts against them


OPEN = (BookingStatus.BOOKED,)


class BookingSlot(Base):
    """The places of one slot of one item at one hall. Made on its first booking (a slot nobody
    booked has all its places); ``taken`` only moves by a conditional UPDATE, so two people
    never take the last place at once."""

    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("hall_code", "item_code", "starts_at"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32))
    item_code: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown at the counter and read out: short, with check characters (kit.ids).
    code: Mapped[str] = mapped_column(String(12), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("booking_slots.id"), index=True)
    hall_code: Mapped[str] = mapped_column(String(32))
    item_code: Mapped[str] = mapped_column(String(40))
    # The slot's times, kept here so lists and scans need no join.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The case the visit is for, when booked from one.
    application_number: Mapped[str | None] = mapped_column(String(24))
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))
    created_at: Mapped[datetime]
    # When the status last changed (arrived, cancelled, missed) or the slot was moved.
    changed_at: Mapped[datetime]
