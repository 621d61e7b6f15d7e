"""Good/bad evaluation in a real Chromium: a bad rating becomes a rectification case that the
department answers, and the applicant reads the reply; the figures are public."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.notifications.conftest import make_applicant
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.applications.states import Status

pytestmark = pytest.mark.browser

ONLINE_INDICATORS = ["总体评价", "办事效率", "办事指南准确性", "办理便捷度", "平台易用性"]


def test_a_bad_rating_leads_to_a_rectification_and_a_reply(
    engine: Engine, new_page: NewPage, totp_code: TotpCode, artifacts: Path
) -> None:
    applicant_account = make_applicant(engine)
    number = application_in(engine, applicant=applicant_account.username, status=Status.COMPLETED)

    applicant = new_page()
    log_in(applicant, applicant_account.username)
    expect(applicant.get_by_test_id("who")).to_be_visible()
    applicant.goto(f"/applications/{number}")
    applicant.get_by_test_id("rate-link").click()
    for indicator in ONLINE_INDICATORS:
        applicant.get_by_role("group", name=indicator).get_by_label("不满意", exact=True).check()
    applicant.get_by_label("意见建议（选填）").fill("等了很久才办结，也没人说明原因。")
    assert_real_png(screenshot(applicant, artifacts, "43-rating"))
    applicant.get_by_role("button", name="提交评价").click()
    expect(applicant).to_have_url(re.compile(rf"/applications/{number}\?rated=1"))
    expect(applicant.get_by_test_id("rating-level")).to_contain_text("不满意")
    expect(applicant.get_by_test_id("rectification-open")).to_be_visible()

    official = new_page()
    log_in(official, "samr_officer", code=totp_code("samr_officer"))
    expect(official.get_by_test_id("who")).to_be_visible()
    official.get_by_role("link", name="差评整改").click()
    official.get_by_role("link", name=number).click()
    expect(official.get_by_test_id("rectification-status")).to_have_text("待答复")
    expect(official.get_by_test_id("trace")).to_contain_text("王芳（市场监管）")
    expect(official.get_by_test_id("comment")).to_contain_text("等了很久")
    assert_real_png(screenshot(official, artifacts, "44-rectification"))
    official.get_by_label("答复申请人").fill("已核实：审批环节排队过长，已增加审批人员并向您致歉。")
    official.get_by_role("button", name="发送答复").click()
    expect(official.get_by_test_id("rectification-status")).to_have_text("已答复，待回访")
    official.get_by_role("group", name="回访：申请人现在是否满意？").get_by_label("是").check()
    official.get_by_label("回访记录").fill("电话回访，申请人认可")
    official.get_by_role("button", name="记录回访").click()
    expect(official.get_by_test_id("callback")).to_contain_text("满意")

    applicant.goto(f"/applications/{number}")
    expect(applicant.get_by_test_id("rectification-reply")).to_contain_text("已增加审批人员")
    assert_real_png(screenshot(applicant, artifacts, "45-rating-replied"))

    visitor = new_page()
    visitor.goto("/satisfaction")
    expect(visitor.get_by_test_id("by-department")).to_contain_text("SAMR")
    expect(visitor.get_by_test_id("by-item")).to_contain_text("SAMR-0001")
    assert_real_png(screenshot(visitor, artifacts, "46-satisfaction"))
