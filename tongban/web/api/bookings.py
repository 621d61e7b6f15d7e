"""Booking a counter visit (预约办理): free slots, bookings, and the clerk's day list."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from tongban.bookings import service
from tongban.bookings.schemas import (
    BookingCreate,
    BookingMove,
    BookingRead,
    DayRead,
    HallRead,
    OpeningRead,
    VisitorRead,
)
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import ApiOptionalSubject, ApiSubject, SessionDep, public

router = APIRouter(tags=["bookings"])
Code = Annotated[str, Query(max_length=40)]


@router.get(public("/api/v1/bookings/halls"), response_model=list[HallRead])
def halls(item: Code, session: SessionDep, subject: ApiOptionalSubject) -> list[HallRead]:
    """The halls where a counter visit for ``item`` can be booked."""
    return [
        HallRead.model_validate(h) for h in service.halls_for(session, subject or ANONYMOUS, item)
    ]


@router.get(public("/api/v1/bookings/openings"), response_model=list[DayRead])
def openings(
    hall: Code, item: Code, session: SessionDep, subject: ApiOptionalSubject
) -> list[DayRead]:
    """The days ahead with each slot's free places (a day off has none)."""
    return [
        DayRead(
            day=d.day,
            workday=d.workday,
            openings=[
                OpeningRead(starts_at=o.slot.starts_at, ends_at=o.slot.ends_at, left=o.left)
                for o in d.openings
            ],
        )
        for d in service.openings(session, subject or ANONYMOUS, hall_code=hall, item_code=item)
    ]


@router.post(
    "/api/v1/bookings",
    response_model=BookingRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "No place left, or the person may not book now"}},
)
def book(body: BookingCreate, session: SessionDep, subject: ApiSubject) -> BookingRead:
    booking = service.book(
        session,
        subject,
        hall_code=body.hall,
        item_code=body.item,
        starts_at=body.starts_at,
        application_number=body.application_number,
    )
    return BookingRead.model_validate(booking)


@router.get("/api/v1/bookings", response_model=list[BookingRead])
def mine(session: SessionDep, subject: ApiSubject) -> list[BookingRead]:
    return [BookingRead.model_validate(b) for b in service.mine(session, subject)]


@router.get("/api/v1/bookings/day", response_model=list[VisitorRead])
def day_list(hall: Code, day: date, session: SessionDep, subject: ApiSubject) -> list[VisitorRead]:
    """The counter clerk's list of a hall's bookings on ``day``."""
    return [
        VisitorRead(
            booking=BookingRead.model_validate(v.booking),
            name=v.name,
            item_zh=v.item.zh,
            item_en=v.item.en,
        )
        for v in service.day_list(session, subject, hall_code=hall, day=day)
    ]


@router.get("/api/v1/bookings/{code}", response_model=BookingRead)
def get(code: str, session: SessionDep, subject: ApiSubject) -> BookingRead:
    return BookingRead.model_validate(service.get(session, subject, code))


@router.put("/api/v1/bookings/{code}/slot", response_model=BookingRead)
def move(code: str, body: BookingMove, session: SessionDep, subject: ApiSubject) -> BookingRead:
    """Move the booking to another slot of the same hall; the old place goes back."""
    return BookingRead.model_validate(
        service.move(session, subject, code, starts_at=body.starts_at)
    )


@router.post("/api/v1/bookings/{code}/cancel", response_model=BookingRead)
def cancel(code: str, session: SessionDep, subject: ApiSubject) -> BookingRead:
    return BookingRead.model_validate(service.cancel(session, subject, code))


@router.post("/api/v1/bookings/{code}/arrived", response_model=BookingRead)
def arrived(code: str, session: SessionDep, subject: ApiSubject) -> BookingRead:
    """The counter clerk: the person came."""
    return BookingRead.model_validate(service.mark_arrived(session, subject, code))


@router.post("/api/v1/bookings/{code}/no-show", response_model=BookingRead)
def no_show(code: str, session: SessionDep, subject: ApiSubject) -> BookingRead:
    """The counter clerk: the person did not come (from the slot's start plus the grace time)."""
    return BookingRead.model_validate(service.mark_no_show(session, subject, code))
