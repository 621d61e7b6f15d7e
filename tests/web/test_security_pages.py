"""Security administration and masked case search in a real browser: one administrator
proposes a clearance on the page, the other approves it on theirs, and the official's case
search shows what the clearance allows."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.identity.factories import new_official
from tests.security.test_read_paths import ITEM, SECRET_DATE, file_case
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot


class TestClearanceUnderDualControl:
    def test_one_proposes_the_other_approves_and_the_search_masks_accordingly(
        self, new_page: NewPage, totp_code: TotpCode, engine: Engine, artifacts: Path
    ) -> None:
        official = new_official(engine, department="HEALTH")
        number = file_case(engine, SECRET_DATE)

        first = new_page()
        log_in(first, "secadmin_a", code=totp_code("secadmin_a"))
        first.get_by_role("link", name="安全管理").click()
        expect(first).to_have_url(re.compile(r"/admin/security$"))
        first.locator("#kind").select_option("clearance")
        first.locator("#target").fill(official.username)
        first.locator("#value").fill("internal:identity")
        first.locator("#reason").fill("新入职")
        first.get_by_role("button", name="提交申请").click()
        row = first.locator("tr", has_text=official.username)
        expect(row).to_contain_text("等待批准")
        # The proposer is offered no approve button on their own proposal.
        expect(row.get_by_role("button", name="批准")).to_have_count(0)

        second = new_page()
        log_in(second, "secadmin_b", code=totp_code("secadmin_b"))
        second.goto("/admin/security")
        second.locator("tr", has_text=official.username).get_by_role("button", name="批准").click()
        expect(second.locator("tr", has_text=official.username)).to_contain_text("已由")
        assert_real_png(screenshot(second, artifacts, "security-changes"))

        clerk = new_page()
        assert official.totp_secret
        log_in(clerk, official.username, code=totp_code(official.username))
        clerk.goto("/queue")
        clerk.get_by_test_id("search-link").click()
        clerk.locator("#item").select_option(ITEM)
        clerk.get_by_role("button", name="搜索").click()
        result = clerk.locator("tr[data-testid=result-row]", has_text=number)
        expect(result.locator("td[data-column=expected_date]")).to_have_text("***")
        # The hidden field is not offered to search or sort by.
        expect(clerk.locator("#field option[value=expected_date]")).to_have_count(0)
        expect(clerk.locator("#sort option[value=expected_date]")).to_have_count(0)
        assert SECRET_DATE not in clerk.content()
        assert_real_png(screenshot(clerk, artifacts, "case-search-masked"))
