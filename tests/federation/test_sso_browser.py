"""Part 5 in a real browser: one sign-in at the national node, then the province's portal and
the city's, each a separate node process on its own address, with no second password."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.federation.conftest import CITY, NATIONAL, PROVINCE
from tests.federation.test_applications import PASSWORD, account, resident_id
from tests.federation.test_sso import linked  # noqa: F401  (the fixture)
from tests.fixtures.nodes import NodeProcess
from tongban.identity.models import AccountKind


def no_password_asked(page: Page, node: NodeProcess) -> None:
    expect(page).to_have_url(re.compile(re.escape(node.url) + r"/applications$"))
    expect(page.get_by_label("密码")).to_have_count(0)


def test_single_sign_on_from_the_national_portal_to_the_province_and_the_city(
    linked: dict[str, NodeProcess],  # noqa: F811
    chromium: Browser,
) -> None:
    national, province, city = linked[NATIONAL], linked[PROVINCE], linked[CITY]
    person = account(
        national, display_name="周一网", kind=AccountKind.APPLICANT, id_number=resident_id()
    )
    context = chromium.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Once, at the national portal, with the password.
        page.goto(national.url + "/login")
        page.get_by_label("用户名").fill(person.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_test_id("who")).to_have_text("周一网")

        # The province's sign-in page offers the national platform: one click, no password.
        page.goto(province.url + "/login")
        page.get_by_role("link", name="通过国家政务服务平台统一身份认证登录").click()
        no_password_asked(page, province)
        expect(page.get_by_test_id("who")).to_have_text("周一网")

        # The city trusts the province, where the person is now signed in: one click again.
        page.goto(city.url + "/login")
        page.get_by_role("link", name="通过浙江省统一身份认证登录").click()
        no_password_asked(page, city)
        expect(page.get_by_test_id("who")).to_have_text("周一网")
    finally:
        context.close()
