"""A full bundle journey in a real Chromium: questions, one form, one material list, one
submission; a department's items are one application (the reviewer sees them together), the
other departments' start when it is approved, and the bundle completes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import Engine

from tests.applications.factories import _file_for
from tests.bundles.test_bundles import approve, complete, merged_values
from tests.notifications.conftest import make_applicant
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot

pytestmark = pytest.mark.browser
ITEMS = ["SAMR-0001", "SAMR-0003", "TAX-0002", "HRSS-0003"]
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


@pytest.mark.slow(
    reason="a bundle's whole journey in Chromium: the questions, one application for four "
    "items, materials uploaded once, then the department's decisions starting the dependants"
)
def test_opening_a_shop_in_one_go(
    engine: Engine, new_page: NewPage, artifacts: Path, totp_code: TotpCode
) -> None:
    person = make_applicant(engine)
    page = new_page()
    log_in(page, person.username)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.get_by_role("link", name="一件事一次办").click()
    page.get_by_test_id("bundle-OPEN-SHOP").click()
    page.get_by_role("group", name="是否经营食品（含预包装食品、餐饮）？").get_by_label(
        "是"
    ).check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("group", name="是否以灵活就业人员身份参加社会保险？").get_by_label(
        "是"
    ).check()
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_test_id("result").locator("li")).to_have_count(4)
    assert_real_png(screenshot(page, artifacts, "50-bundle-items"))
    page.get_by_role("button", name="一次申请以上全部事项").click()
    expect(page).to_have_url(re.compile(r"/bundle-cases/\d+$"))

    # What the registration issues is not asked: the credit code and the business licence.
    expect(page.locator("#f_credit_code")).to_have_count(0)
    expect(page.locator(".material[data-code='business_licence']")).to_have_count(0)
    expect(page.get_by_test_id("from-result-credit_code")).to_contain_text("个体工商户设立登记")
    expect(page.get_by_test_id("from-result-business_licence")).to_contain_text("营业执照")
    fill(page, {k: v for k, v in merged_values(engine, ITEMS).items() if k != "credit_code"})
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

    # The market regulator's two items are one application, handled together.
    expect(page.get_by_test_id("status-SAMR-0001")).to_have_text("已提交")
    expect(page.get_by_test_id("status-SAMR-0003")).to_have_text("已提交")
    number = {
        code: page.get_by_test_id(f"linked-{code}").locator("a").inner_text() for code in ITEMS
    }
    assert number["SAMR-0001"] == number["SAMR-0003"]
    assert len(set(number.values())) == 3
    for waiting in ("TAX-0002", "HRSS-0003"):
        expect(page.get_by_test_id(f"status-{waiting}")).to_have_text("前序事项批准后自动开始办理")

    # The reviewer's page shows both items, and the fields of both.
    officer = new_page()
    log_in(officer, "samr_officer", code=totp_code("samr_officer"))
    expect(officer.get_by_test_id("who")).to_be_visible()
    officer.goto(f"/queue/{number['SAMR-0001']}")
    expect(officer.locator("h1")).to_contain_text("个体工商户设立登记")
    expect(officer.locator("h1")).to_contain_text("食品经营许可")

    approve(engine, "samr_officer", number["SAMR-0001"])
    page.reload()
    expect(page.get_by_test_id("status-SAMR-0003")).to_have_text("已批准")
    expect(page.get_by_test_id("status-TAX-0002")).to_have_text("已提交")
    expect(page.get_by_test_id("status-HRSS-0003")).to_have_text("已提交")
    assert_real_png(screenshot(page, artifacts, "52-bundle-progress"))

    # The invoices application took the new code and the licence from the registration.
    page.goto(f"/applications/{number['TAX-0002']}")
    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"92\d{6}[0-9A-Z]{10}"))
    expect(page.get_by_test_id("prefill-credit_code")).to_contain_text("SAMR")
    expect(page.locator("main")).to_contain_text("已核验的电子证照")
    page.go_back()

    approve(engine, "tax_officer", number["TAX-0002"])
    approve(engine, "hrss_officer", number["HRSS-0003"])
    for officer_name, code in (
        ("samr_officer", "SAMR-0001"),
        ("tax_officer", "TAX-0002"),
        ("hrss_officer", "HRSS-0003"),
    ):
        complete(engine, officer_name, number[code])
    page.reload()
    expect(page.get_by_test_id("bundle-done")).to_be_visible()
    assert_real_png(screenshot(page, artifacts, "53-bundle-done"))
