"""Two-step sign-in and acting for a company in a real headless Chromium: the QR code shows
under the pages' content security policy, the code step works, the header says for whom one acts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.fixtures.browser import TIMEOUT_MS
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, fresh_uscc, new_citizen, new_official
from tests.web.conftest import ARTIFACTS
from tongban.db.session import unit_of_work
from tongban.identity.companies import service as companies_service
from tongban.identity.models import Account


@pytest.fixture
def page(chromium: Browser, live_server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def password_step(page: Page, person: Person) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(person.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


class TestTwoStepSignIn:
    @pytest.mark.browser
    def test_an_official_sets_up_the_authenticator_at_the_first_sign_in(
        self, page: Page, engine: Engine, artifacts: Path
    ) -> None:
        official = new_official(engine, totp=False)
        password_step(page, official)

        expect(page).to_have_url(re.compile(r"/login/enrol"))
        expect(page.get_by_role("heading", level=1)).to_have_text("设置两步登录")
        qr = page.get_by_test_id("totp-qr")
        expect(qr).to_be_visible()
        # Loaded, not blocked by the content security policy: it has a size of its own.
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        screenshot(page, artifacts, "60-totp-enrolment")
        secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
        page.goto("/queue")
        expect(page).to_have_url(re.compile(r"/login"), ignore_case=True)
        page.go_back()

        page.get_by_label("身份验证器应用中的验证码").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="开启两步登录").click()

        expect(page).to_have_url(re.compile(r"/queue$"))
        expect(page.get_by_role("heading", name="待办事项")).to_be_visible()

    @pytest.mark.browser
    def test_an_official_enters_the_code_after_the_password(
        self, page: Page, engine: Engine, artifacts: Path
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        password_step(page, official)
        expect(page).to_have_url(re.compile(r"/login/code"))
        page.get_by_label("身份验证器应用中的验证码").fill("000000")
        page.get_by_role("button", name="确认").click()
        expect(page.get_by_role("alert")).to_contain_text("验证码错误")
        screenshot(page, artifacts, "61-totp-wrong-code")

        page.get_by_label("身份验证器应用中的验证码").fill(pyotp.TOTP(official.totp_secret).now())
        page.get_by_role("button", name="确认").click()

        expect(page).to_have_url(re.compile(r"/queue$"))
        page.get_by_role("link", name="我的账号").click()
        expect(page.get_by_test_id("session-row")).to_contain_text("密码和身份验证器验证码")
        expect(page.get_by_test_id("roles")).to_contain_text("受理员")


class TestActingFor:
    @pytest.mark.browser
    def test_an_agent_switches_to_acting_for_the_company(
        self, page: Page, engine: Engine, artifacts: Path
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine, display_name="王经办")
        uscc = fresh_uscc()
        with unit_of_work(engine) as session:
            companies_service.register_legal_person(
                session,
                OPERATOR,
                uscc=uscc,
                name="临江浏览器测试有限公司",
                representative=boss.username,
            )
            companies_service.grant_agent(
                session, session.get_one(Account, boss.id), uscc=uscc, username=agent.username
            )
        password_step(page, agent)
        expect(page).to_have_url(re.compile(r"/applications$"))
        expect(page.get_by_test_id("acting-for")).to_have_count(0)

        page.get_by_role("link", name="我的账号").click()
        page.get_by_role("button", name="代表 临江浏览器测试有限公司 办事").click()

        expect(page.get_by_test_id("acting-for")).to_have_text(
            "正在代表 临江浏览器测试有限公司 办事"
        )
        expect(page.get_by_role("status")).to_contain_text("您现在代表页面顶部显示的法人办事")
        screenshot(page, artifacts, "62-acting-for")
        page.goto("/items")
        expect(page.get_by_test_id("acting-for")).to_be_visible()

        page.goto("/account")
        page.get_by_role("button", name="以个人身份办事").click()
        expect(page.get_by_test_id("acting-for")).to_have_count(0)
