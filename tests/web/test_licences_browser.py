"""Licences in a real Chromium: the wallet, a share link opened by a third party and refused
once withdrawn, verification by uploading the PDF, and reuse of a licence instead of an upload
on the application page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.licences.helpers import approved, pdf_of
from tests.licences.test_reuse import _start, _upload_all_but
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot
from tongban.identity.models import Account

pytestmark = pytest.mark.browser


def test_wallet_share_verify_and_reuse(
    client: TestClient,
    new_applicant: Account,
    new_page: NewPage,
    totp_code: TotpCode,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    headers = sign_in(client, new_applicant.username)
    licence = approved(client, headers)
    number = licence["number"]

    page = new_page()
    log_in(page, new_applicant.username)
    # The case page points at the licence it produced.
    page.goto(f"/applications/{licence['application']}")
    expect(page.get_by_test_id("licence-issued")).to_contain_text(number)
    page.get_by_test_id("nav-licences").click()
    expect(page).to_have_url(re.compile(r"/licences$"))
    row = page.get_by_test_id("wallet-row").filter(has_text=number)
    expect(row).to_contain_text("营业执照")
    expect(row).to_contain_text("有效")
    assert_real_png(screenshot(page, artifacts, "70-licence-wallet"))

    row.get_by_role("link", name="营业执照").click()
    expect(page.get_by_test_id("licence-number")).to_have_text(number)
    with page.expect_download() as download:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.download = 'l.pdf';"
            " document.body.appendChild(a); a.click(); }",
            f"/licences/{number}.pdf",
        )
    saved = tmp_path / "licence.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == pdf_of(client, headers, number)

    page.get_by_test_id("share-note").fill("房东")
    page.get_by_test_id("share-create").click()
    url = page.get_by_test_id("share-url").inner_text()
    third = new_page()
    # The link names the deployment's public address; this live server listens elsewhere.
    third.goto(urlsplit(url).path)
    expect(third.get_by_test_id("licence-number")).to_have_text(number)
    # The public view masks the operator's ID number.
    expect(third.get_by_test_id("licence-holder-id")).not_to_have_text("330102199003071230")
    assert_real_png(screenshot(third, artifacts, "71-licence-shared"))
    page.get_by_test_id("link-row").filter(has_text="房东").get_by_test_id("link-revoke").click()
    expect(page.get_by_test_id("link-row").filter(has_text="房东")).to_contain_text("已撤回")
    third.reload()
    expect(third.get_by_test_id("share-refused")).to_contain_text("持证人已撤回此链接")

    verifier = new_page()
    verifier.goto("/licences/verify")
    verifier.get_by_test_id("verify-file").set_input_files(str(saved))
    verifier.get_by_test_id("verify-submit").click()
    expect(verifier.get_by_test_id("verdict")).to_have_attribute("data-outcome", "genuine")
    expect(verifier.get_by_test_id("verdict-message")).to_contain_text("真实有效")
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    verifier.get_by_test_id("verify-file").set_input_files(str(tampered))
    verifier.get_by_test_id("verify-submit").click()
    expect(verifier.get_by_test_id("verdict")).to_have_attribute("data-outcome", "not_genuine")
    assert_real_png(screenshot(verifier, artifacts, "72-licence-verify-tampered"))

    # Reuse: the food business permit asks for the business licence just issued.
    application = _start(client, headers)
    _upload_all_but(client, headers, application, "business_licence")
    page.goto(f"/applications/{application}/edit")
    offer = page.get_by_test_id("offer-business_licence")
    expect(offer).to_contain_text(number)
    expect(offer).to_contain_text("我们已持有")
    page.get_by_test_id("offer-confirm-business_licence").check()
    page.get_by_test_id("offer-use-business_licence").click()
    expect(page.get_by_test_id("reused-business_licence")).to_be_visible()
    assert_real_png(screenshot(page, artifacts, "73-licence-reused"))
    submitted = client.post(
        f"/api/v1/applications/{application}/actions", headers=headers, json={"action": "submit"}
    )
    assert submitted.status_code == 200, submitted.text
    # The reviewer sees the material as a verified licence.
    reviewer = new_page()
    log_in(reviewer, "samr_officer", code=totp_code("samr_officer"))
    reviewer.goto(f"/queue/{application}")
    badge = reviewer.get_by_test_id("evidence-business_licence")
    expect(badge).to_contain_text(number)
    expect(badge).to_contain_text("A")
    assert_real_png(screenshot(reviewer, artifacts, "74-licence-evidence-reviewer"))


def test_an_approver_revokes_a_licence_and_verification_says_so(
    client: TestClient,
    new_applicant: Account,
    new_page: NewPage,
    totp_code: TotpCode,
    artifacts: Path,
) -> None:
    headers = sign_in(client, new_applicant.username)
    licence = approved(client, headers)
    number = licence["number"]
    page = new_page()
    log_in(page, "samr_officer", code=totp_code("samr_officer"))
    page.get_by_test_id("nav-issued").click()
    row = page.locator(f'[data-testid="issued-row"][data-number="{number}"]')
    expect(row).to_contain_text("有效")
    row.get_by_test_id("revoke-reason").fill("以欺骗手段取得登记，依法撤销")
    row.get_by_test_id("revoke").click()
    row = page.locator(f'[data-testid="issued-row"][data-number="{number}"]')
    expect(row).to_contain_text("已撤销")
    expect(row).to_contain_text("以欺骗手段取得登记")
    assert_real_png(screenshot(page, artifacts, "75-licence-revoked"))
    verifier = new_page()
    verifier.goto(
        urlsplit(licence["verify_url"]).path + "?" + urlsplit(licence["verify_url"]).query
    )
    expect(verifier.get_by_test_id("verdict")).to_have_attribute("data-outcome", "revoked")
    expect(verifier.get_by_test_id("verdict-message")).to_contain_text("注销")
