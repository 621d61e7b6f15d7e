"""Fewer materials in a real Chromium: the guide tells a person which materials need no upload
and what replaces each; a verified citizen (two-step sign-in) applies for an individual
business and submits with no upload at all; the official sees each material's source and
grade."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.applications.helpers import valid_form
from tests.fixtures.materials import Sources
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.identity.models import Account

pytestmark = pytest.mark.browser
ITEM = "SAMR-0001"


def test_a_verified_citizen_submits_with_no_upload(
    client: TestClient,
    verified_citizen: Account,
    sources: Sources,
    new_page: NewPage,
    totp_code: TotpCode,
    artifacts: Path,
) -> None:
    assert verified_citizen.id_number
    sources.hold(verified_citizen.id_number)
    page = new_page()

    # The guide, before signing in: each material says whether it needs an upload.
    page.goto(f"/items/{ITEM}")
    expect(page.get_by_test_id("guide-source-application_form")).to_contain_text("免提交")
    expect(page.get_by_test_id("guide-source-application_form")).to_contain_text(
        "系统根据填报内容生成"
    )
    expect(page.get_by_test_id("guide-source-id_card")).to_contain_text("已核验的身份")
    expect(page.get_by_test_id("guide-source-premises_proof")).to_contain_text("从住房和城乡建设局")
    expect(page.get_by_test_id("guide-source-agent_authorization")).to_contain_text("需上传")
    assert_real_png(screenshot(page, artifacts, "80-materials-guide"))

    log_in(page, verified_citizen.username, code=totp_code(verified_citizen.username))
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto(f"/items/{ITEM}")
    page.get_by_role("button", name="在线申请").click()
    expect(page).to_have_url(re.compile(r"/applications/TB\w+/edit$"))
    number = page.get_by_test_id("number").inner_text()
    for code, kind in (
        ("application_form", "generated"),
        ("id_card", "identity"),
        ("premises_proof", "data"),
    ):
        expect(page.get_by_test_id(f"source-{code}")).to_have_attribute("data-source", kind)
    item = client.get(f"/api/v1/items/{ITEM}").json()
    values = valid_form(client, ITEM)
    for field in item["fields"]:
        box = page.locator(f"#f_{field['name']}")
        if field.get("source") or not box.is_editable():
            continue  # filled from the verified identity
        if field["type"] == "select":
            box.select_option(values[field["name"]])
        elif field["type"] == "checkbox":
            box.check()
        else:
            box.fill(str(values[field["name"]]))
    assert_real_png(screenshot(page, artifacts, "81-materials-no-upload-form"))
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(rf"/applications/{number}\?submitted=1$"))
    assert_real_png(screenshot(page, artifacts, "82-materials-submitted"))

    reviewer = new_page()
    log_in(reviewer, "samr_officer", code=totp_code("samr_officer"))
    reviewer.goto(f"/queue/{number}")
    for code, kind, grade in (
        ("application_form", "generated", "C"),
        ("id_card", "identity", "A"),
        ("premises_proof", "data", "A"),
    ):
        badge = reviewer.get_by_test_id(f"material-source-{code}")
        expect(badge).to_have_attribute("data-source", kind)
        expect(badge).to_have_attribute("data-grade", grade)
    expect(reviewer.get_by_test_id("material-source-premises_proof")).to_contain_text(
        "HOUSING-PROPERTY"
    )
    assert_real_png(screenshot(reviewer, artifacts, "83-materials-reviewer-sources"))
