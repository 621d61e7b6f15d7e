"""Tracking by number and one-time code in a real Chromium, with no account."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.notifications.conftest import Deliver, Recorders, deliver, make_applicant, recorders
from tests.tracking.test_tracking import code_sent
from tests.web.conftest import NewPage
from tests.web.test_browser import assert_real_png, screenshot
from tongban.applications.states import Status

__all__ = ["deliver", "recorders"]
pytestmark = pytest.mark.browser


def test_anyone_with_the_number_and_the_code_sees_the_progress(
    engine: Engine, new_page: NewPage, deliver: Deliver, recorders: Recorders, artifacts: Path
) -> None:
    applicant = make_applicant(engine)
    number = application_in(engine, applicant=applicant.username, status=Status.ACCEPTED)

    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="办件查询").click()
    page.get_by_label("申请编号").fill(number)
    page.get_by_label("短信").check()
    page.get_by_role("button", name="发送验证码").click()
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    deliver()
    code = code_sent(recorders, number)

    page.get_by_label("一次性验证码").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="查看进度").click()
    expect(page.get_by_test_id("error")).to_contain_text("验证码错误或已过期")

    page.get_by_label("一次性验证码").fill(code)
    page.get_by_role("button", name="查看进度").click()
    expect(page.get_by_test_id("status")).to_have_text("已受理")
    expect(page.get_by_test_id("steps").locator("li")).to_have_count(3)
    expect(page.get_by_test_id("time-limit")).to_be_visible()
    assert_real_png(screenshot(page, artifacts, "42-tracking-progress"))
