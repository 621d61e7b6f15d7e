"""`tongban serve --demo` shows everything from its first start: a real `tongban serve --demo`
on an empty database, then its pages in a real Chromium and its gateway over HTTP. 张三 finds
services offered to him; the data steward finds people to decide on; the housing bureau finds
an address to settle; and the housing bureau's example system, with the credentials the start
printed, gets real answers from the exchange gateway (and 张三 sees that it did)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import TIMEOUT_MS
from tests.fixtures.db import fresh_database
from tests.fixtures.live import free_port
from tests.fixtures.nodes import TONGBAN, wait_until
from tests.web.test_browser import assert_real_png, screenshot
from tongban.identity.schemas import demo_accounts

pytestmark = pytest.mark.browser
ZHANGSAN_ID = "330102199003071230"
NOBODY_ID = "110101199003076421"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A `tongban serve --demo` of its own (own database and data dir): its address and what
    it printed at start."""
    home = tmp_path_factory.mktemp("demo")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fresh_database(home) as engine:
        env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "TONGBAN_DATA_DIR": str(home / "var"),
            "TONGBAN_PUBLIC_URL": url,
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",
        }
        log = home / "serve.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(TONGBAN), "serve", "--demo", "--port", str(port)],
                env=env,
                cwd=home,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(lambda: _answers(url), what="the demo serving", timeout=240)
            yield url, log.read_text(encoding="utf-8")
        finally:
            process.terminate()
            process.wait(timeout=30)


def _page(browser: Browser, url: str) -> Page:
    context = browser.new_context(
        base_url=url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    secrets = {
        a.username: a.totp_secret for a in [*demo_accounts().officials, *demo_accounts().admins]
    }
    if username in secrets:
        expect(page).to_have_url(re.compile(r"/login/code"))
        page.get_by_label("身份验证器应用中的验证码").fill(pyotp.TOTP(secrets[username]).now())
        page.get_by_role("button", name="确认").click()
    expect(page.get_by_test_id("who")).to_be_visible()


@pytest.fixture(scope="module")
def gateway_answer(demo_server: tuple[str, str]) -> httpx.Response:
    """The housing system's gateway call about 张三 and about nobody, with the credentials the
    start printed (made once in whichever worker runs a test that needs it)."""
    url, printed = demo_server
    found = re.search(r"client id (\S+), secret (\S+)", printed)
    assert found, printed
    basic = base64.b64encode(f"{found[1]}:{found[2]}".encode()).decode()
    token = httpx.post(
        url + "/oidc/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.text
    return httpx.post(
        url + "/api/v1/exchange/query",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        json={
            "resource": "PSB-POPULATION",
            "purpose": "housing_subsidy_review",
            "keys": [ZHANGSAN_ID, NOBODY_ID],
        },
    )


def test_the_gateway_answers_real_keys_with_the_printed_credentials(
    gateway_answer: httpx.Response,
) -> None:
    assert gateway_answer.status_code == 200, gateway_answer.text
    held, unknown = gateway_answer.json()["records"]
    assert held["found"] is True
    assert held["record"]["name"] == "张三"
    assert held["record"]["address"] == "临江市滨江区滨江路18号"
    assert held["record"]["birth_date"] == "1990-03-07"
    assert (unknown["found"], unknown["error"]) == (False, "unknown_key")


def test_every_page_has_something_real_from_the_first_start(
    demo_server: tuple[str, str], gateway_answer: httpx.Response, chromium: Browser, artifacts: Path
) -> None:
    url, _ = demo_server
    citizen = _page(chromium, url)
    _sign_in(citizen, "zhangsan")
    citizen.get_by_test_id("nav-offers").click()
    expect(citizen.get_by_test_id("offer").first).to_be_visible()
    expect(citizen.get_by_test_id("offers")).to_contain_text("张小宝")
    assert_real_png(screenshot(citizen, artifacts, "80-demo-offers"))
    citizen.get_by_test_id("nav-licences").click()
    expect(citizen.get_by_test_id("wallet")).to_contain_text("营业执照")
    # The housing system's gateway call about him (``gateway_answer``).
    assert gateway_answer.status_code == 200, gateway_answer.text
    citizen.get_by_test_id("nav-data-use").click()
    expect(citizen.get_by_test_id("use-system").first).to_contain_text("住房保障业务系统")

    steward = _page(chromium, url)
    _sign_in(steward, "admin")
    steward.goto("/resources/reviews")
    expect(steward.get_by_test_id("review")).to_have_count(2)
    assert_real_png(screenshot(steward, artifacts, "81-demo-reviews"))

    housing = _page(chromium, url)
    _sign_in(housing, "housing_officer")
    housing.get_by_test_id("nav-conflicts").click()
    conflict = housing.locator("section.conflict")
    expect(conflict).to_have_count(1)
    expect(conflict.get_by_test_id("authority-value")).to_have_text("临江市江南区望湖路12号")
    expect(conflict.get_by_test_id("other-value")).to_have_text("临江市江南区望湖路21号")
    housing.goto("/exchange/requests")
    expect(housing.locator("main")).to_contain_text("PSB-POPULATION")
    assert_real_png(screenshot(housing, artifacts, "82-demo-conflict"))
