"""The single window in a real Chromium: a counter clerk serves a walk-in and prints the
acceptance receipt (its PDF read back); the applicant then finds the case online."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, expect
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.counter.factories import walk_in
from tests.fixtures.files import pdf_bytes
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, fill_form, log_in, screenshot, valid_form

pytestmark = pytest.mark.browser


def test_a_walk_in_leaves_with_a_printed_receipt_and_sees_the_case_online(
    engine: Engine, new_page: NewPage, totp_code: TotpCode, artifacts: Path
) -> None:
    person = walk_in(engine)
    assert person.id_number is not None
    clerk = new_page()
    log_in(clerk, "counter_clerk", code=totp_code("counter_clerk"))
    expect(clerk.get_by_test_id("who")).to_be_visible()
    clerk.get_by_role("link", name="综合窗口").click()
    clerk.get_by_label("证件号码").fill(person.id_number)
    clerk.get_by_role("button", name="查找").click()
    expect(clerk.get_by_test_id("person")).to_contain_text("窗口申请人")
    clerk.get_by_label("事项").select_option("SAMR-0001")
    clerk.get_by_role("button", name="开始申请").click()
    expect(clerk).to_have_url(re.compile(r"/counter/cases/TB\w+$"))
    number = clerk.get_by_test_id("number").inner_text()

    # First the person has nothing with them: the one-time notice lists it all.
    expect(clerk.get_by_test_id("missing")).to_be_visible()
    fill_form(clerk, valid_form())
    clerk.get_by_role("button", name="保存表单").click()
    required = clerk.eval_on_selector_all(
        "#materials .material[data-required='1']", "els => els.map(e => e.dataset.code)"
    )
    for code in required:
        form = clerk.locator(f".material[data-code='{code}'] form.upload")
        payload: FilePayload = {
            "name": "scan.pdf",
            "mimeType": "application/pdf",
            "buffer": pdf_bytes(),
        }
        form.locator("input[name=file]").set_input_files(files=payload)
        with clerk.expect_navigation():
            form.get_by_role("button", name="上传扫描件").click()
    expect(clerk.get_by_test_id("complete")).to_be_visible()
    assert_real_png(screenshot(clerk, artifacts, "47-counter-case"))
    clerk.get_by_role("button", name="受理并出具受理回执").click()

    document = clerk.get_by_test_id("counter-document")
    expect(document).to_contain_text("受理回执")
    expect(clerk.get_by_test_id("status")).to_have_text("已受理")
    assert_real_png(screenshot(clerk, artifacts, "48-counter-receipt"))
    pdf_url = clerk.get_by_test_id("pdf").get_attribute("href")
    assert pdf_url
    response = clerk.request.get(pdf_url)
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    for expected in ("受理回执", number, "个体工商户设立登记", "窗口申请人", "许静（综合窗口）"):
        assert expected in text, expected
    (artifacts / "49-counter-receipt.pdf").write_bytes(response.body())

    applicant = new_page()
    log_in(applicant, person.username)
    applicant.goto("/applications")
    card = applicant.locator(".case-card", has_text=number)
    expect(card).to_contain_text("已受理")
    card.get_by_test_id("case-link").click()
    expect(applicant.get_by_test_id("status")).to_have_text("已受理")
    # A counter visit is rated on the counter indicators.
    applicant.get_by_test_id("rate-link").click()
    expect(applicant.get_by_role("group", name="服务态度")).to_be_visible()
