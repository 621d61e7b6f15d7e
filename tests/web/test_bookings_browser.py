"""Booking a counter visit in a real Chromium: a person books a time from an item's guide on a
phone, sees it, moves it, books another from their case; the counter clerk (on a desktop)
sees the day's bookings and marks one arrived."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.bookings.conftest import SetClock, set_clock
from tests.counter.factories import walk_in
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_fits_phone, assert_real_png, log_in, screenshot
from tongban.applications import service as applications_service
from tongban.db.session import unit_of_work
from tongban.kit.clock import local_today
from tongban.kit.workdays import get_calendar

__all__ = ["set_clock"]
pytestmark = pytest.mark.browser
ITEM, CASE_ITEM = "PSB-0001", "SAMR-0001"


def next_working_day() -> str:
    """The first working day after today: the clock is set to 08:00 on it."""
    day = local_today() + timedelta(days=1)
    while not get_calendar().is_workday(day):
        day += timedelta(days=1)
    return day.isoformat()


def pick(page: Page, start: str) -> None:
    page.get_by_test_id("slots").get_by_text(re.compile(rf"^\s*{start}–")).click()


def test_a_person_books_and_moves_a_visit_and_the_clerk_marks_the_arrival(
    engine: Engine,
    new_page: NewPage,
    totp_code: TotpCode,
    set_clock: SetClock,
    artifacts: Path,
) -> None:
    day = next_working_day()
    # A clock ahead of the real one, never behind: cookies the browser keeps stay valid.
    set_clock(f"{day} 08:00")
    person = walk_in(engine)
    with unit_of_work(engine) as session:
        number = applications_service.start(session, person, item_code=CASE_ITEM).number

    phone = new_page(width=390, height=844)
    log_in(phone, person.username)
    expect(phone.get_by_test_id("who")).to_be_visible()
    phone.goto(f"/items/{ITEM}")
    phone.get_by_test_id("book-visit").click()
    expect(phone.get_by_test_id("hall")).to_have_text("临江市政务服务中心")
    expect(phone.get_by_test_id(f"day-{day}")).to_have_attribute("aria-current", "date")
    pick(phone, "09:00")
    assert_fits_phone(phone)
    assert_real_png(screenshot(phone, artifacts, "90-booking-choose-390"))
    phone.get_by_role("button", name="预约此时段").click()
    expect(phone).to_have_url(re.compile(r"/bookings/B\w{7}$"))
    code = phone.get_by_test_id("code").inner_text()
    expect(phone.get_by_test_id("status")).to_have_text("已预约")
    expect(phone.get_by_test_id("time")).to_contain_text(f"{day} 09:00")
    assert_fits_phone(phone)

    # Moved to ten o'clock: the same code, the new time, and nine o'clock free again.
    phone.get_by_role("link", name="改约其他时间").click()
    expect(phone.get_by_test_id("moving")).to_contain_text(code)
    expect(phone.get_by_test_id("slots")).to_contain_text("余 1 个名额")
    pick(phone, "10:00")
    phone.get_by_role("button", name="改约到此时段").click()
    expect(phone.get_by_test_id("moved")).to_be_visible()
    expect(phone.get_by_test_id("code")).to_have_text(code)
    expect(phone.get_by_test_id("time")).to_contain_text(f"{day} 10:00")
    phone.goto(f"/bookings/new?item={ITEM}&day={day}")
    expect(phone.get_by_test_id("slots").locator("label").first).to_contain_text("余 2 个名额")

    # From the case: the booking carries its application number.
    phone.goto(f"/applications/{number}")
    phone.get_by_test_id("book-visit").click()
    expect(phone.get_by_test_id("item")).to_contain_text(number)
    pick(phone, "11:00")
    phone.get_by_role("button", name="预约此时段").click()
    expect(phone.get_by_role("link", name=number)).to_be_visible()
    phone.get_by_test_id("nav-bookings").click()
    expect(phone.get_by_test_id(f"booking-{code}")).to_contain_text("已预约")
    expect(phone.locator("[data-testid^=booking-]")).to_have_count(2)
    assert_fits_phone(phone)
    assert_real_png(screenshot(phone, artifacts, "91-my-bookings-390"))

    clerk = new_page(width=1280)
    log_in(clerk, "counter_clerk", code=totp_code("counter_clerk"))
    expect(clerk.get_by_test_id("who")).to_be_visible()
    clerk.get_by_test_id("nav-day-bookings").click()
    row = clerk.get_by_test_id(f"visitor-{code}")
    expect(row).to_contain_text("窗口申请人")
    expect(row).to_contain_text("10:00–10:30")
    row.get_by_role("button", name="已到达").click()
    expect(clerk.get_by_test_id(f"status-{code}")).to_have_text("已到达")
    expect(clerk.get_by_test_id(f"visitor-{code}").get_by_role("button")).to_have_count(0)
    assert_real_png(screenshot(clerk, artifacts, "92-counter-bookings-1280"))

    # The person sees it too, and the page reads in English when chosen.
    phone.goto(f"/bookings/{code}")
    expect(phone.get_by_test_id("status")).to_have_text("已到达")
    phone.goto(f"/lang/en?next=/bookings/{code}")
    expect(phone.get_by_test_id("status")).to_have_text("Arrived")
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Booking {code}")
