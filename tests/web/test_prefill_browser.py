"""Once-only in a real browser: a citizen signed in with a verified identity opens an
application and finds the name, ID number and phone the government holds already filled in,
each marked with where it came from; a value they change is marked as changed (the department
will check it), and the rest stay marked as verified."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.connectors.test_prefill import citizen
from tests.identity.factories import fresh_id_number
from tests.web.conftest import NewPage
from tests.web.test_browser import ITEM, assert_real_png, log_in, screenshot


class TestPrefillOnThePage:
    def test_held_values_are_filled_marked_with_their_source_and_changes_are_flagged(
        self, engine: Engine, new_page: NewPage, artifacts: Path
    ) -> None:
        id_number = fresh_id_number()
        person = citizen(engine, id_number)  # identity verified: ID number and phone
        page = new_page()
        log_in(page, person.username)
        page.goto(f"/items/{ITEM}")
        page.get_by_role("button", name="在线申请").click()
        expect(page).to_have_url(re.compile(r"/applications/TB\w+/edit$"))

        expect(page.locator("#f_operator_name")).to_have_value("李测试")
        expect(page.locator("#f_operator_id_number")).to_have_value(id_number)
        expect(page.locator("#f_operator_phone")).to_have_value("13600136000")
        for field in ("operator_name", "operator_id_number", "operator_phone"):
            expect(page.get_by_test_id(f"prefill-{field}")).to_have_text("✓ 由统一身份认证提供")
        assert_real_png(screenshot(page, artifacts, "prefill"))

        page.locator("#f_operator_phone").fill("13900139999")
        page.get_by_role("button", name="保存草稿").click()
        expect(page.get_by_test_id("prefill-operator_phone")).to_have_text(
            "与统一身份认证所存信息不一致：部门将予以核对"
        )
        expect(page.get_by_test_id("prefill-operator_name")).to_have_text("✓ 由统一身份认证提供")
        expect(page.locator("#f_operator_phone")).to_have_value("13900139999")
