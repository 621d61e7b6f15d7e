"""Once-only in a real browser: a citizen signed in with a verified identity opens an
application and finds the name, ID number and phone the government holds already filled in,
each marked with where it came from; a value they change is marked as changed (the department
will check it), and the rest stay marked as verified."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.identity.factories import fresh_id_number
from tests.web.conftest import NewPage
from tests.web.test_browser import ITEM, assert_real_png, log_in, screenshot
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind


def verified_citizen(engine: Engine) -> tuple[str, str]:
    """A citizen whose ID number and phone the identity provider verified: (username, ID)."""
    id_number = fresh_id_number()
    with unit_of_work(engine) as session:
        account = identity_service.create_account(
            session,
            None,
            username=f"pf_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="王预填",
            kind=AccountKind.APPLICANT,
            id_number=id_number,
            phone="13700137000",
        )
        return account.username, id_number


class TestPrefillOnThePage:
    def test_held_values_are_filled_marked_with_their_source_and_changes_are_flagged(
        self, engine: Engine, new_page: NewPage, artifacts: Path
    ) -> None:
        username, id_number = verified_citizen(engine)
        page = new_page()
        log_in(page, username)
        page.goto(f"/items/{ITEM}")
        page.get_by_role("button", name="在线申请").click()
        expect(page).to_have_url(re.compile(r"/applications/TB\w+/edit$"))

        expect(page.locator("#f_operator_name")).to_have_value("王预填")
        expect(page.locator("#f_operator_id_number")).to_have_value(id_number)
        expect(page.locator("#f_operator_phone")).to_have_value("13700137000")
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
