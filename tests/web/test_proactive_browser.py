"""Proactive service in a real Chromium: a parent of a newly registered child finds the offer
under 服务提醒 with the child's details filled in, confirms once, and lands on the application."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from tests.proactive.test_service import _birth, _offers, _run
from tests.web.conftest import NewPage
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.proactive.models import OfferStatus

pytestmark = pytest.mark.browser


def test_a_parent_confirms_the_offer_and_gets_an_application(
    engine: Engine, new_page: NewPage, artifacts: Path
) -> None:
    father, _, child, name = _birth(engine)
    _run(engine, "newborn-household")
    (offer,) = [
        o
        for o in _offers(engine, "newborn-household", child)
        if o.recipient_id == father.account_id
    ]
    page = new_page()
    log_in(page, father.username)
    page.get_by_test_id("nav-offers").click()
    card = page.locator(f'[data-offer="{offer.id}"]')
    expect(card).to_contain_text("新生儿入户提醒")
    expect(card.get_by_test_id("offer-prefill")).to_contain_text(name)
    expect(card.get_by_test_id("offer-prefill")).to_contain_text("新生儿姓名")
    assert_real_png(screenshot(page, artifacts, "60-proactive-offer"))
    card.get_by_test_id("offer-accept").click()
    expect(page).to_have_url(re.compile(r"/applications/TB\w+\?from_offer=1"))
    number = page.url.split("/applications/")[1].split("?")[0]
    (taken,) = [o for o in _offers(engine, "newborn-household", child) if o.id == offer.id]
    assert taken.status is OfferStatus.APPLIED
    assert taken.application_number == number
    page.goto("/me/offers")
    expect(page.locator(f'[data-offer="{offer.id}"]').get_by_test_id("offer-status")).to_have_text(
        "您已申请"
    )
