"""The data exchange in a real browser: the housing official finds the marriage registrations
in the catalog and asks for two items for their system; the civil affairs approver approves the
conditional one; the gateway serves the system; the provider sees who used the data and
revokes the grant; a resource file is registered by upload."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.fixtures.exchange import PERSON_ID, Exchange, call, machine_token, resource_spec
from tests.web.conftest import NewPage, TotpCode
from tests.web.test_browser import assert_real_png, log_in, screenshot


class TestTheExchangeOnPages:
    def test_ask_approve_serve_and_revoke(
        self,
        new_page: NewPage,
        totp_code: TotpCode,
        exchange: Exchange,
        client: TestClient,
        artifacts: Path,
    ) -> None:
        housing = new_page()
        log_in(housing, "housing_officer", code=totp_code("housing_officer"))
        housing.get_by_role("link", name="数据共享").click()
        housing.locator("input[name=text]").fill("配偶")
        housing.get_by_role("button", name="搜索").click()
        housing.get_by_role("link", name=exchange.resource).click()
        expect(housing.locator("tr[data-item=certificate_no] input")).to_be_disabled()
        housing.locator("tr[data-item=spouse_name] input").check()
        housing.locator("tr[data-item=registered_on] input").check()
        housing.locator("#system").select_option(exchange.requester_system)
        purpose = "housing_subsidy_review"
        housing.locator("#purpose").fill(purpose)
        housing.locator("#purpose_text").fill("核查公租房申请人的婚姻状况")
        housing.locator("#legal_basis").fill("《公共租赁住房管理办法》第七条")
        housing.get_by_role("button", name="申请共享").click()
        expect(housing).to_have_url(re.compile(r"/exchange/requests#request-\d+$"))
        request_id = housing.url.rsplit("-", 1)[1]
        expect(housing.get_by_test_id(f"status-{request_id}").first).to_contain_text("等待")

        mca = new_page()
        log_in(mca, "mca_officer", code=totp_code("mca_officer"))
        mca.goto("/exchange/requests")
        decide = mca.get_by_test_id(f"decide-{request_id}")
        decide.get_by_role("button", name="批准勾选的信息项").click()
        expect(mca.get_by_test_id(f"status-{request_id}").first).to_contain_text("已授权")
        assert_real_png(screenshot(mca, artifacts, "exchange-requests"))

        gateway = {"Authorization": f"Bearer {machine_token(client, exchange)}"}
        served = call(client, gateway, exchange, [PERSON_ID], purpose=purpose)
        assert served.status_code == 200, served.text

        mca.goto("/exchange/provided")
        row = mca.locator("tr[data-testid^=grant-]", has_text=exchange.requester_system).filter(
            has_text="registered_on"
        )
        expect(row.first).to_be_visible()
        expect(mca.get_by_test_id("top-requesters")).to_contain_text(exchange.requester_system)
        assert_real_png(screenshot(mca, artifacts, "exchange-provided"))
        row.first.locator("input[name=reason]").fill("核查结束")
        row.first.get_by_role("button", name="撤销").click()
        expect(mca.locator("tr[data-testid^=grant-]", has_text="核查结束").first).to_be_visible()

    def test_a_resource_file_is_registered_by_upload(
        self,
        new_page: NewPage,
        totp_code: TotpCode,
        exchange: Exchange,
        tmp_path: Path,
    ) -> None:
        spec = resource_spec("MCA-UPLOADED", exchange.provider_system)
        path = tmp_path / "resources.yaml"
        path.write_text(yaml.safe_dump([spec], allow_unicode=True), encoding="utf-8")
        page = new_page()
        log_in(page, "mca_officer", code=totp_code("mca_officer"))
        page.goto("/exchange/register")
        page.locator("input[type=file]").set_input_files(str(path))
        page.get_by_role("button", name="登记").click()
        expect(page.get_by_test_id("report")).to_be_visible()
        page.goto("/exchange?text=MCA-UPLOADED")
        expect(page.get_by_test_id("resources")).to_contain_text("MCA-UPLOADED")
