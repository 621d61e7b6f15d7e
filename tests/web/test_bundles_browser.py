"""A full bundle journey in a real Chromium: questions, one form, one material list, one
submission; the next department's item starts when the first is approved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import Engine

from tests.applications.factories import _file_for
from tests.bundles.test_bundles import approve, merged_values
from tests.notifications.conftest import make_applicant
from tests.web.conftest import NewPage
from tests.web.test_browser import assert_real_png, log_in, screenshot

pytestmark = pytest.mark.browser
ITEMS = ["HEALTH-0003", "PSB-0003", "HRSS-0002"]
MIME = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def fill(page: Page, values: dict[str, object]) -> None:
    for name, value in values.items():
        field = page.locator(f"#f_{name}")
        if value is True:
            field.check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def test_a_baby_is_born_in_one_go(engine: Engine, new_page: NewPage, artifacts: Path) -> None:
    person = make_applicant(engine)
    page = new_page()
    log_in(page, person.username)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.get_by_role("link", name="一件事一次办").click()
    page.get_by_test_id("bundle-BABY-BORN").click()
    page.get_by_role("group", name="孩子是否在临江市出生？").get_by_label("是").check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("group", name="是否同时为孩子申领社会保障卡？").get_by_label("是").check()
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_test_id("result").locator("li")).to_have_count(3)
    assert_real_png(screenshot(page, artifacts, "50-bundle-items"))
    page.get_by_role("button", name="一次申请以上全部事项").click()
    expect(page).to_have_url(re.compile(r"/bundle-cases/\d+$"))

    fill(page, merged_values(engine, ITEMS))
    page.get_by_role("button", name="保存表单").click()
    codes = page.eval_on_selector_all(
        "#materials .material[data-required='1']", "els => els.map(e => e.dataset.code)"
    )
    for code in codes:
        material = page.locator(f".material[data-code='{code}']")
        accept = material.locator("input[name=file]").get_attribute("accept") or ".pdf"
        name, content = _file_for([t.lstrip(".") for t in accept.split(",")])
        payload: FilePayload = {
            "name": name,
            "mimeType": MIME[name.rsplit(".", 1)[1]],
            "buffer": content,
        }
        material.locator("input[name=file]").set_input_files(files=payload)
        with page.expect_navigation():
            material.get_by_role("button", name="上传").click()
        expect(page.locator(f".material[data-code='{code}'] .files li")).to_have_count(1)
    assert_real_png(screenshot(page, artifacts, "51-bundle-form"))
    page.get_by_role("button", name="一次提交全部申请").click()

    expect(page.get_by_test_id("status-HEALTH-0003")).to_have_text("已提交")
    expect(page.get_by_test_id("status-PSB-0003")).to_have_text("前序事项批准后自动开始办理")
    health_number = page.get_by_test_id("linked-HEALTH-0003").locator("a").inner_text()
    approve(engine, "health_officer", health_number)
    page.reload()
    expect(page.get_by_test_id("status-HEALTH-0003")).to_have_text("已批准")
    expect(page.get_by_test_id("status-PSB-0003")).to_have_text("已提交")
    expect(page.get_by_test_id("status-HRSS-0002")).to_have_text("前序事项批准后自动开始办理")
    assert_real_png(screenshot(page, artifacts, "52-bundle-progress"))
