"""The department application's sign-in and sign-out in a real headless Chromium: the sign-on
pages' forms lead on to another site, which the browser's Content-Security-Policy must allow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from examples.department_app.app import create_app
from tests.conftest import PASSWORD
from tests.fixtures.browser import TIMEOUT_MS
from tests.fixtures.live import free_port, serve
from tests.identity.oidc.conftest import DepartmentApp, register
from tests.identity.oidc.flow import userinfo
from tongban.identity.models import Account

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def sign_in_at_tongban(page: Page, who: Account) -> None:
    page.locator("input[name=username]").fill(who.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()


class TestInChromium:
    def test_sign_in_through_tongban_and_out_again(
        self, page: Page, provider: str, department_app: DepartmentApp, citizen: Account
    ) -> None:
        page.goto(department_app.url)
        page.get_by_test_id("sign-in").click()
        page.wait_for_url(f"{provider}/login?*")
        sign_in_at_tongban(page, citizen)
        page.wait_for_url(f"{department_app.url}/")
        assert page.get_by_test_id("name").inner_text() == citizen.display_name
        (sign_in,) = department_app.store.sign_ins.values()
        token = sign_in.token["access_token"]

        page.get_by_text("Sign out").click()
        page.wait_for_url(f"{department_app.url}/signed-out?*")
        assert page.get_by_test_id("signed-out").is_visible()
        assert userinfo(provider, token).status_code == 401

    def test_consent_then_on_to_a_third_party(
        self, page: Page, provider: str, engine: Engine, citizen: Account
    ) -> None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        client = register(
            engine,
            department=None,
            scopes=("openid", "profile", "phone"),
            redirect_uri=f"{base}/callback",
            post_logout_uri=f"{base}/signed-out",
        )
        app = create_app(
            issuer=provider, client_id=client.client_id, client_secret=client.secret, base_url=base
        )
        with serve(app, port=port):
            page.goto(f"{base}/login")
            sign_in_at_tongban(page, citizen)
            page.wait_for_url(f"{provider}/oidc/authorize?*")
            assert page.get_by_test_id("consent").is_visible()
            assert "您的手机号码" in page.get_by_test_id("released").inner_text()
            page.locator("button[value=allow]").click()
            page.wait_for_url(f"{base}/")
            assert page.get_by_test_id("name").inner_text() == citizen.display_name
