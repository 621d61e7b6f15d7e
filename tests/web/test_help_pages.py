"""Help, the privacy notice and the accessibility statement, in a real Chromium: linked from
every page's footer in both languages; the help says how to apply, follow and complain; the
privacy notice leads to "who used my data"; and the accessibility statement claims what the
pages are checked to meet here — axe-core's WCAG 2.0/2.1 A and AA rules over each page it
lists, at a desktop's and a phone's width, with nothing scrolling sideways on the phone."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.datause.test_data_use import submitted
from tests.fixtures.browser import axe_violations
from tests.identity.factories import new_official
from tests.notifications.conftest import make_applicant
from tests.web.conftest import NewPage
from tests.web.test_browser import (
    assert_fits_phone,
    assert_real_png,
    log_in,
    screenshot,
    start_application,
)
from tongban.web.pages.help import CHECKED_PAGES, WIDTHS

pytestmark = pytest.mark.browser
FOOTER = {
    "zh-CN": {"/help": "帮助", "/privacy": "隐私声明", "/accessibility": "无障碍声明"},
    "en": {
        "/help": "Help",
        "/privacy": "Privacy notice",
        "/accessibility": "Accessibility statement",
    },
}


def assert_footer_links(page: Page, lang: str) -> None:
    footer = page.get_by_test_id("footer-links")
    for path, name in FOOTER[lang].items():
        expect(footer.get_by_role("link", name=name, exact=True)).to_have_attribute("href", path)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_links_help_privacy_and_accessibility(
    engine: Engine, new_page: NewPage, lang: str
) -> None:
    page = new_page(locale=lang)
    for path in ("/", "/items/SAMR-0001", "/bundles", "/track", "/login", "/no-such-page"):
        page.goto(path)
        assert_footer_links(page, lang)
    person = make_applicant(engine)
    log_in(page, person.username) if lang == "zh-CN" else _log_in_en(page, person.username)
    expect(page.get_by_test_id("who")).to_be_visible()
    for path in ("/applications", "/me/data-use", "/account"):
        page.goto(path)
        assert_footer_links(page, lang)
    for path, name in FOOTER[lang].items():
        page.get_by_test_id("footer-links").get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(re.compile(f"{path}$"))
        expect(page.locator("h1")).to_have_text(name)
        assert_footer_links(page, lang)


def _log_in_en(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()


def test_the_help_says_how_to_apply_follow_and_complain(new_page: NewPage, artifacts: Path) -> None:
    page = new_page()
    page.goto("/help")
    expect(page.get_by_test_id("help-apply").get_by_role("link", name="办事指南")).to_be_visible()
    expect(page.get_by_test_id("help-track").get_by_role("link", name="办件查询")).to_be_visible()
    complain = page.get_by_test_id("help-complain")
    expect(complain.get_by_role("link", name="好差评")).to_be_visible()
    # The time limits of the remedies come from the remedies file, as decisions state them.
    expect(complain.get_by_test_id("help-remedies")).to_contain_text("60")
    expect(complain.get_by_test_id("help-remedies")).to_contain_text("6 个月")
    assert_real_png(screenshot(page, artifacts, "70-help"))
    english = new_page(locale="en")
    english.goto("/help")
    expect(english.locator("h1")).to_have_text("Help")
    expect(english.get_by_test_id("help-complain")).to_contain_text(
        "administrative reconsideration"
    )


def test_the_privacy_notice_leads_to_who_used_my_data(
    engine: Engine, new_page: NewPage, artifacts: Path
) -> None:
    person = make_applicant(engine)
    page = new_page()
    log_in(page, person.username)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.get_by_test_id("footer-links").get_by_role("link", name="隐私声明").click()
    expect(page.get_by_test_id("privacy-holds")).to_contain_text("身份证号码")
    expect(page.get_by_test_id("privacy-cookies")).to_contain_text("30 分钟")
    assert_real_png(screenshot(page, artifacts, "71-privacy"))
    page.get_by_test_id("privacy-data-use").get_by_role("link", name="谁用了我的数据").click()
    expect(page).to_have_url(re.compile(r"/me/data-use$"))
    expect(page.locator("h1")).to_have_text("谁用了我的数据")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_listed_pages_meet_what_the_accessibility_statement_claims(
    engine: Engine, new_page: NewPage, width: int
) -> None:
    problems: list[str] = []
    pages = {"visitor": new_page(width=width, height=900)}
    applicant = make_applicant(engine)
    pages["applicant"] = new_page(width=width, height=900)
    draft = start_application(pages["applicant"], applicant.username)
    case = submitted(engine, applicant.username)
    official = new_official(engine, department="SAMR")
    assert official.totp_secret
    pages["official"] = new_page(width=width, height=900)
    log_in(pages["official"], official.username, code=pyotp.TOTP(official.totp_secret).now())
    expect(pages["official"].get_by_test_id("who")).to_be_visible()
    for checked in CHECKED_PAGES:
        page = pages[checked.who]
        number = case if checked.who == "official" else draft
        response = page.goto(checked.path.format(number=number))
        assert response is not None, checked.path
        assert response.status == 200, checked.path
        problems += axe_violations(page, f"{width}px {checked.path}")
        if width < 600:
            assert_fits_phone(page)
    assert problems == []


def test_the_accessibility_statement_lists_the_checked_pages(
    new_page: NewPage, artifacts: Path
) -> None:
    statement = new_page()
    statement.goto("/accessibility")
    expect(statement.get_by_test_id("accessibility-status")).to_contain_text("WCAG 2.1")
    expect(statement.get_by_test_id("checked-page")).to_have_count(len(CHECKED_PAGES))
    for checked in CHECKED_PAGES:
        expect(statement.get_by_test_id("accessibility-checked")).to_contain_text(checked.path)
    assert_real_png(screenshot(statement, artifacts, "72-accessibility"))
