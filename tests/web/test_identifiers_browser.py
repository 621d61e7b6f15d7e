"""In Chromium: a credit code with a wrong check character is refused at its field of a form, as
registration refuses it, and nothing typed is lost."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.applications.test_typed_identifiers import BAD_USCC, FOOD
from tests.web.test_browser import log_in
from tongban.identity.models import Account


@pytest.mark.browser
def test_a_wrong_credit_code_is_shown_at_its_field(page: Page, new_applicant: Account) -> None:
    log_in(page, new_applicant.username)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto(f"/items/{FOOD}")
    page.get_by_role("button", name="在线申请").click()
    expect(page).to_have_url(re.compile(r"/applications/TB\w+/edit$"))
    page.locator("#f_operator_name").fill("张晓明")
    page.locator("#f_credit_code").fill(BAD_USCC)
    page.get_by_role("button", name="保存草稿").click()

    field = page.locator(".field", has=page.locator("#f_credit_code"))
    expect(field).to_have_class(re.compile(r"\binvalid\b"))
    expect(field).to_contain_text("统一社会信用代码的校验码不符")
    expect(page.locator("#f_credit_code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f_credit_code")).to_have_value(BAD_USCC)
    expect(page.locator("#f_operator_name")).to_have_value("张晓明")
