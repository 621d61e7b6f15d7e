"""Notifications in a real Chromium: the applicant's messages, the administrators' overview."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.notifications.conftest import deliver_all, make_applicant
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.applications.states import Status
from tongban.notifications.models import Channel
from tongban.notifications.senders import InAppSender, RecordingSender

pytestmark = pytest.mark.browser


def test_an_accepted_case_shows_in_the_inbox_and_the_overview(
    engine: Engine, new_page: NewPage, totp_code: TotpCode, artifacts: Path
) -> None:
    applicant = make_applicant(engine)
    number = application_in(engine, applicant=applicant.username, status=Status.ACCEPTED)
    recorder = RecordingSender()
    senders = {Channel.SMS: recorder, Channel.EMAIL: recorder, Channel.IN_APP: InAppSender()}
    deliver_all(engine, senders)

    page = new_page()
    log_in(page, applicant.username)
    page.get_by_test_id("nav-messages").click()
    message = page.get_by_test_id("message")
    expect(message).to_have_count(1)
    expect(message).to_contain_text(number)
    expect(message).to_contain_text("已受理")
    assert_real_png(screenshot(page, artifacts, "40-inbox"))
    page.get_by_role("button", name="标为已读").click()
    expect(page.get_by_role("button", name="标为已读")).to_have_count(0)

    admin = new_page()
    log_in(admin, "admin", code=totp_code("admin"))
    # An administrator lands on their own start page (issue 24), not a citizen's.
    expect(admin).to_have_url(re.compile(r"/admin/connectors$"))
    admin.goto("/admin/notifications")
    counts = admin.get_by_test_id("notification-counts")
    expect(counts).to_contain_text("accepted")
    expect(counts).to_contain_text("已送达")
    assert_real_png(screenshot(admin, artifacts, "41-notifications-admin"))
