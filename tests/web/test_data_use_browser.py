"""Who used my data, in a real browser: after a real gateway call about a person and an
official's read of their case, the person sees which department and system read which items
and why (never the values), objects to the gateway call, the data protection officer replies
on their page and the person reads the reply."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.datause.test_data_use import gateway_call_about, id_number_of, submitted
from tests.fixtures.exchange import Exchange
from tests.identity.factories import new_citizen, new_official
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot

OBJECTION = "我没有申请住房保障，为何查询我的婚姻信息？"
REPLY = "经核查，系住建局误查，已要求其整改。"


class TestWhoUsedMyData:
    def test_the_person_sees_the_uses_objects_and_reads_the_dpos_reply(
        self,
        engine: Engine,
        client: TestClient,
        exchange: Exchange,
        new_page: NewPage,
        totp_code: TotpCode,
        artifacts: Path,
    ) -> None:
        person = new_citizen(engine, display_name="数据测试人")
        id_number = id_number_of(engine, person)
        gateway_call_about(client, exchange, id_number)
        number = submitted(engine, person.username)
        case = client.get(f"/api/v1/applications/{number}", headers=sign_in(client, "samr_officer"))
        assert case.status_code == 200

        page = new_page()
        log_in(page, person.username)
        page.get_by_test_id("nav-data-use").click()
        expect(page).to_have_url(re.compile(r"/me/data-use$"))
        uses = page.get_by_test_id("use")
        expect(uses).to_have_count(2)
        read, call = uses.nth(0), uses.nth(1)
        expect(read.get_by_test_id("use-department")).to_have_text("市场监督管理局")
        expect(read.get_by_test_id("use-purpose")).to_contain_text(number)
        expect(call.get_by_test_id("use-department")).to_have_text(
            "住房和城乡建设局（住房公积金管理中心）"
        )
        expect(call.get_by_test_id("use-system")).to_contain_text("婚姻登记信息")
        expect(call.get_by_test_id("use-items")).to_have_text("配偶姓名")
        expect(call.get_by_test_id("use-purpose")).to_have_text("核查申请人婚姻状况")
        # Names only: neither the person's ID number nor a value of their form is on the page.
        content = page.content()
        assert id_number not in content
        for value in case.json()["form_data"].values():
            if isinstance(value, str) and len(value) >= 8:
                assert value not in content
        assert_real_png(screenshot(page, artifacts, "data-use"))

        call.get_by_text("对这次使用提出异议").click()
        call.get_by_label("您对什么有异议？").fill(OBJECTION)
        call.get_by_role("button", name="提交给数据保护负责人").click()
        expect(page.get_by_test_id("objection")).to_contain_text(OBJECTION)
        expect(page.get_by_test_id("objection")).to_contain_text("等待数据保护负责人答复")

        officer = new_page()
        log_in(officer, "dpo", code=totp_code("dpo"))
        officer.get_by_role("link", name="数据使用异议").click()
        raised = officer.locator("li", has_text=OBJECTION).first
        expect(raised.get_by_test_id("use-items")).to_have_text("配偶姓名")
        raised.get_by_label("答复").fill(REPLY)
        raised.get_by_role("button", name="答复并办结").click()
        expect(officer.locator("li", has_text=OBJECTION).first).to_contain_text("已办结")

        page.reload()
        expect(page.get_by_test_id("objection-reply")).to_contain_text(REPLY)

    def test_an_officials_repeated_reads_of_a_case_are_one_entry(
        self, engine: Engine, new_page: NewPage, artifacts: Path
    ) -> None:
        """The official opens the case three times and lists it in two searches: the person
        sees two entries, each with how many times, not five."""
        person = new_citizen(engine, display_name="分组测试人")
        number = submitted(engine, person.username)
        official = new_official(engine, department="SAMR")
        assert official.totp_secret
        reader = new_page()
        log_in(reader, official.username, code=pyotp.TOTP(official.totp_secret).now())
        expect(reader.get_by_test_id("who")).to_be_visible()
        for _ in range(3):
            reader.goto(f"/queue/{number}")
            expect(reader.locator("h1")).to_contain_text("个体工商户设立登记")
        for _ in range(2):
            reader.goto("/queue/search?item=SAMR-0001")
            expect(reader.get_by_role("link", name=number)).to_be_visible()

        page = new_page(width=390, height=844)
        log_in(page, person.username)
        page.get_by_test_id("nav-data-use").click()
        uses = page.get_by_test_id("use")
        expect(uses).to_have_count(2)
        listed, read = uses.nth(0), uses.nth(1)
        expect(read.get_by_test_id("use-purpose")).to_contain_text(f"办理申请 {number}")
        expect(read.get_by_test_id("use-times")).to_contain_text("当天共 3 次")
        expect(listed.get_by_test_id("use-purpose")).to_contain_text("查询办件时列出申请")
        expect(listed.get_by_test_id("use-times")).to_contain_text("当天共 2 次")
        assert_real_png(screenshot(page, artifacts, "data-use-grouped"))
