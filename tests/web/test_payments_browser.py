"""Paying a fee in a real Chromium: the applicant opens the case, pays through the simulated
provider's own pages and comes back to the case shown paid; an attempt left to time out may be
tried again; the official sees the fee paid, refunds it, and reads the day's reconciliation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.applications.factories import PASSWORD
from tests.fixtures.browser import axe_violations
from tests.payments.conftest import case_with_fee, serve_platform
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_fits_phone, assert_real_png, log_in, screenshot
from tongban.web.pages.help import WIDTHS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(engine: Engine) -> Iterator[str]:
    """The platform at the address it knows itself by: the simulated provider sends the person
    back, and posts its notification, there."""
    yield from serve_platform(engine)


def pay_at_provider(page: Page, button: str) -> None:
    page.get_by_role("button", name="网上缴费").click()
    expect(page).to_have_url(re.compile(r"/simulated-provider/payments/sim_\w+$"))
    expect(page.get_by_test_id("amount")).to_have_text("¥120.00")
    page.get_by_role("button", name=button, exact=True).click()


def test_the_applicant_pays_the_fee_and_returns_to_the_case_shown_paid(
    engine: Engine, new_page: NewPage, totp_code: TotpCode, artifacts: Path
) -> None:
    username, number = case_with_fee(engine)
    page = new_page()
    log_in(page, username, PASSWORD)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto(f"/applications/{number}")
    expect(page.get_by_test_id("fee-amount")).to_have_text("¥120.00")
    expect(page.get_by_test_id("fee-state")).to_have_text("未缴费")

    # Left to time out at the provider: nothing taken, and the person may try again.
    pay_at_provider(page, "放弃支付（超时）")
    expect(page).to_have_url(re.compile(rf"/applications/{number}#fee$"))
    expect(page.get_by_test_id("payment-failed")).to_be_visible()
    expect(page.get_by_test_id("fee-state")).to_have_text("未缴费")

    pay_at_provider(page, "支付")
    expect(page).to_have_url(re.compile(rf"/applications/{number}#fee$"))
    expect(page.get_by_test_id("fee-state")).to_have_text("已缴费")
    expect(page.get_by_test_id("fee")).to_have_attribute("data-state", "paid")
    expect(page.get_by_role("button", name="网上缴费")).to_have_count(0)
    assert_real_png(screenshot(page, artifacts, "payments-case-paid"))

    # The official sees it paid, refunds it, and finds both in the day's reconciliation.
    official = new_page()
    log_in(official, "psb_officer", code=totp_code("psb_officer"))
    expect(official.get_by_test_id("who")).to_be_visible()
    official.goto(f"/queue/{number}")
    expect(official.get_by_test_id("fee-state")).to_have_text("已缴费")
    official.get_by_label("退费原因").fill("申请人已撤回护照申请")
    official.get_by_role("button", name="退费").click()
    expect(official.get_by_test_id("fee-state")).to_have_text("已退费")
    official.get_by_test_id("nav-reconciliation").click()
    expect(official.get_by_role("heading", name="缴费对账")).to_be_visible()
    rows = official.get_by_test_id("line").filter(has_text=number)
    expect(rows).to_have_count(2)
    for outcome in rows.evaluate_all("rows => rows.map(r => r.dataset.outcome)"):
        assert outcome == "matched"


def test_the_payment_pages_meet_the_accessibility_statements_rules(
    engine: Engine, new_page: NewPage, totp_code: TotpCode
) -> None:
    """The case's fee, the simulated provider's page and the reconciliation report, through
    axe-core at a desktop's and a phone's width, as the statement's listed pages are."""
    problems: list[str] = []
    for width in WIDTHS:
        username, number = case_with_fee(engine)
        applicant = new_page(width=width)
        log_in(applicant, username, PASSWORD)
        expect(applicant.get_by_test_id("who")).to_be_visible()
        applicant.goto(f"/applications/{number}")
        applicant.get_by_role("button", name="网上缴费").click()
        expect(applicant.get_by_test_id("simulated-provider")).to_be_visible()
        provider_page = applicant.url
        official = new_page(width=width)
        log_in(official, "psb_officer", code=totp_code("psb_officer"))
        expect(official.get_by_test_id("who")).to_be_visible()
        checked = [
            (applicant, f"/applications/{number}"),
            (applicant, provider_page),
            (official, f"/queue/{number}"),
            (official, "/payments/reconciliation"),
        ]
        for page, path in checked:
            response = page.goto(path)
            assert response is not None, path
            assert response.status == 200, path
            problems += axe_violations(page, f"{width}px {path}")
            if width < 600:
                assert_fits_phone(page)
    assert problems == []
