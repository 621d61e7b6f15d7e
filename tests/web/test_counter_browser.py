"""The single window in a real Chromium: a counter clerk serves a walk-in and prints the
acceptance receipt (its PDF read back); the applicant then finds the case online. A walk-in
with no account is registered at the window and claims the account later."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.applications.factories import PASSWORD
from tests.counter.factories import walk_in
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import OPERATOR
from tests.notifications.conftest import Deliver, Recorders, deliver, recorders
from tests.tracking.test_tracking import code_sent
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import (
    assert_real_png,
    fill_form,
    log_in,
    resident_id,
    screenshot,
    valid_form,
    with_wrong_check_character,
)
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service

__all__ = ["deliver", "recorders"]
pytestmark = pytest.mark.browser


def fill_and_scan(clerk: Page) -> None:
    """Fill the form of SAMR-0001 and upload a scan of every required material."""
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
    fill_and_scan(clerk)
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


@pytest.mark.slow(
    reason="one walk-in's whole journey in Chromium: two clerk windows racing to register, "
    "the receipt's PDF, claiming the account by SMS code, then signing in"
)
def test_a_walk_in_without_an_account_gets_a_receipt_then_claims_the_account(
    engine: Engine,
    new_page: NewPage,
    totp_code: TotpCode,
    deliver: Deliver,
    recorders: Recorders,
    artifacts: Path,
) -> None:
    id_number = resident_id()
    clerk = new_page()
    log_in(clerk, "counter_clerk", code=totp_code("counter_clerk"))
    expect(clerk.get_by_test_id("who")).to_be_visible()
    clerk.get_by_role("link", name="综合窗口").click()
    clerk.get_by_label("证件号码").fill(id_number)
    clerk.get_by_role("button", name="查找").click()
    register = clerk.get_by_test_id("register")
    expect(register).to_be_visible()
    expect(clerk.get_by_test_id("not-found")).to_have_text("该身份证号码尚无账号。")
    expect(register.get_by_label("居民身份证号码")).to_have_value(id_number)
    # A second window has the same person's form open: only one registration can win.
    second = new_page()
    log_in(second, "counter_clerk", code=totp_code("counter_clerk"))
    expect(second.get_by_test_id("who")).to_be_visible()
    second.goto(f"/counter?id_number={id_number}")
    register.get_by_label("姓名").fill("赵临窗")
    register.get_by_label("手机号码").fill("13900139000")
    assert_real_png(screenshot(clerk, artifacts, "54-counter-register"))
    register.get_by_role("button", name="登记并继续").click()
    expect(clerk.get_by_test_id("registered")).to_be_visible()
    expect(clerk.get_by_test_id("person")).to_contain_text("赵临窗")

    duplicate = second.get_by_test_id("register")
    duplicate.get_by_label("姓名").fill("赵临窗")
    duplicate.get_by_label("手机号码").fill("13900139000")
    duplicate.get_by_role("button", name="登记并继续").click()
    expect(second.get_by_test_id("error")).to_have_text(
        "该身份证号码已有账号：请直接查找该申请人。"
    )
    expect(second.get_by_test_id("register").get_by_label("姓名")).to_have_value("赵临窗")
    # A mistyped ID number never reaches registration: its check digit is wrong.
    second.goto("/counter")
    second.get_by_label("证件号码").fill(with_wrong_check_character(id_number))
    second.get_by_role("button", name="查找").click()
    expect(second.get_by_test_id("error")).to_contain_text("校验位")
    expect(second.get_by_test_id("register")).to_have_count(0)

    clerk.get_by_label("事项").select_option("SAMR-0001")
    clerk.get_by_role("button", name="开始申请").click()
    expect(clerk).to_have_url(re.compile(r"/counter/cases/TB\w+$"))
    number = clerk.get_by_test_id("number").inner_text()
    fill_and_scan(clerk)
    clerk.get_by_role("button", name="受理并出具受理回执").click()
    expect(clerk.get_by_test_id("counter-document")).to_contain_text("受理回执")
    pdf_url = clerk.get_by_test_id("pdf").get_attribute("href")
    assert pdf_url
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(clerk.request.get(pdf_url).body())).pages
    )
    assert number in text
    assert "赵临窗" in text

    # Later, at home: no account to sign in with yet, so the person claims the one opened.
    person = new_page()
    person.goto("/login")
    person.get_by_role("link", name="认领账号").click()
    person.get_by_label("居民身份证号码").fill(id_number)
    person.get_by_role("button", name="发送验证码").click()
    expect(person.get_by_test_id("sent")).to_be_visible()
    deliver()
    with unit_of_work(engine) as session:
        account = identity_service.find_applicant(session, OPERATOR, id_number)
    code = code_sent(recorders, f"account:{account.id}")
    username = f"zlc_{uuid.uuid4().hex[:8]}"
    person.get_by_label("短信验证码").fill(code)
    person.get_by_label("用户名").fill(username)
    person.get_by_label("密码（至少10个字符）").fill(PASSWORD)
    assert_real_png(screenshot(person, artifacts, "55-claim-account"))
    person.get_by_role("button", name="认领账号").click()
    expect(person).to_have_url(re.compile(r"/applications$"))
    card = person.locator(".case-card", has_text=number)
    expect(card).to_contain_text("已受理")
    assert_real_png(screenshot(person, artifacts, "56-claimed-cases"))

    # From now on the person signs in with the username and password they chose.
    again = new_page()
    log_in(again, username)
    expect(again.get_by_test_id("who")).to_be_visible()
