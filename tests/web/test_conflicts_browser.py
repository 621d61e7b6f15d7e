"""The authority's department closes conflicts between sources in a real Chromium: an approver
of the housing bureau (the address's authority) dismisses one with a reason (refused without),
corrects the bureau's own record for another, and finds both among the handled ones; on a
phone too."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.resources.test_conflicts import housing_official
from tests.resources.test_service import _address_conflict
from tests.web.conftest import NewPage
from tests.web.test_browser import assert_fits_phone, assert_real_png, log_in, screenshot

pytestmark = pytest.mark.browser


def test_an_approver_of_the_authority_closes_conflicts(
    engine: Engine, new_page: NewPage, artifacts: Path
) -> None:
    first, *_ = _address_conflict(engine)
    second, *_ = _address_conflict(engine)
    official = housing_official(engine)
    assert official.totp_secret
    page = new_page(width=390, height=844)
    log_in(page, official.username, code=pyotp.TOTP(official.totp_secret).now())
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto("/resources/conflicts")
    expect(page.locator("h1")).to_have_text("多源数据冲突")

    card = page.locator(f"section.conflict[data-pid='{first}']")
    expect(card.get_by_test_id("authority-value")).to_have_text("临江市人民路1号")
    expect(card.get_by_test_id("other-value")).to_have_text("临江市解放路9号")
    assert_fits_phone(page)
    assert_real_png(screenshot(page, artifacts, "60-conflicts-open"))

    # Dismissing needs a reason: refused at the conflict, then done with one.
    card.get_by_role("button", name="不予处理").click()
    card = page.locator(f"section.conflict[data-pid='{first}']")
    expect(card.get_by_test_id("error")).to_have_text("请填写理由：双方部门都会看到。")
    card.get_by_label("理由").fill("人社登记的是工作单位地址")
    card.get_by_role("button", name="不予处理").click()
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.locator(f"section.conflict[data-pid='{first}']")).to_have_count(0)

    # The bureau's own record was wrong for the other: corrected to the other source's value.
    card = page.locator(f"section.conflict[data-pid='{second}']")
    conflict = card.get_attribute("data-testid")
    expect(card.get_by_label("将本部门记录更正为")).to_have_value("临江市解放路9号")
    card.get_by_role("button", name="更正本部门记录").click()
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.get_by_test_id(str(conflict))).to_have_count(0)
    # The public security bureau's record still holds the old address: a new conflict.
    reopened = page.locator(f"section.conflict[data-pid='{second}']")
    expect(reopened.get_by_test_id("authority-value")).to_have_text("临江市解放路9号")
    expect(reopened.get_by_test_id("other-value")).to_have_text("临江市人民路1号")

    page.get_by_test_id("closed-tab").click()
    dismissed = page.locator(f"section.conflict[data-pid='{first}']")
    expect(dismissed.get_by_test_id("resolution")).to_contain_text("不予处理")
    expect(dismissed.get_by_test_id("note")).to_have_text("人社登记的是工作单位地址")
    corrected = page.get_by_test_id(str(conflict))
    expect(corrected.get_by_test_id("resolution")).to_contain_text("已更正本部门记录")
    expect(corrected.get_by_test_id("resolution")).to_contain_text(official.username)
    assert_real_png(screenshot(page, artifacts, "61-conflicts-handled"))
