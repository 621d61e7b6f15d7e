"""Bookings as the API reads and writes them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from tongban.bookings.models import BookingStatus


class BookingCreate(BaseModel):
    hall: str = Field(max_length=32)
    item: str = Field(max_length=40)
    starts_at: datetime = Field(description="The slot's start, with its UTC offset")
    application_number: str | None = Field(default=None, max_length=24)


class BookingMove(BaseModel):
    starts_at: datetime


class BookingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    hall_code: str
    item_code: str
    starts_at: datetime
    ends_at: datetime
    application_number: str | None
    status: BookingStatus


class HallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    slot_minutes: int


class OpeningRead(BaseModel):
    starts_at: datetime
    ends_at: datetime
    left: int


class DayRead(BaseModel):
    day: date
    workday: bool
    openings: list[OpeningRead]


class VisitorRead(BaseModel):
    booking: BookingRead
    name: str
    item_zh: str
    item_en: str
