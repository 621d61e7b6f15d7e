"""The dashboard and the early warnings in a real Chromium: charts drawn without any script,
filters, CSV downloads, and each reader's scope."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.analytics.conftest import official_login
from tests.applications.test_roles import page_client
from tests.conftest import PASSWORD
from tests.fixtures.forms import submit


def watch_console(page: Page) -> list[str]:
    """Errors the page logs (a CSP violation shows up here) and loads that failed (the browser's
    own favicon request aside)."""
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def failed(response: Response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", keep)
    page.on("response", failed)
    return errors


@pytest.mark.browser
class TestDashboard:
    def test_a_supervisor_sees_every_department_with_charts(
        self, analytics_app: FastAPI, analytics_page: Page, artifacts: Path
    ) -> None:
        page = analytics_page
        errors = watch_console(page)
        official_login(analytics_app, page, "supervisor")
        page.get_by_role("link", name="统计").click()

        expect(page.get_by_role("heading", name="政务服务统计")).to_be_visible()
        expect(page.get_by_test_id("tile-submitted")).not_to_have_text("0")
        assert page.locator("svg.chart").count() >= 4
        assert page.locator("[data-testid=demand] svg rect").count() >= 12
        expect(page.get_by_test_id("processing")).to_contain_text("住房和城乡建设局")
        expect(page.get_by_test_id("reasons").locator("li").first).to_contain_text("请")
        expect(page.get_by_test_id("bottleneck-state").first).to_be_visible()
        page.screenshot(path=str(artifacts / "analytics-dashboard.png"), full_page=True)
        assert errors == []

    def test_filters_narrow_the_figures_and_csv_follows_them(
        self, analytics_app: FastAPI, analytics_page: Page
    ) -> None:
        page = analytics_page
        official_login(analytics_app, page, "supervisor")
        page.goto("/analytics")
        everything = int(page.get_by_test_id("tile-submitted").inner_text())

        page.locator("select[name=department]").select_option("HOUSING")
        page.get_by_label("分组方式").select_option("item")
        page.get_by_role("button", name="查看").click()

        narrowed = int(page.get_by_test_id("tile-submitted").inner_text())
        assert 0 < narrowed < everything
        expect(page.get_by_test_id("processing")).not_to_contain_text("市场监督管理局")
        with page.expect_download() as download:
            page.get_by_test_id("returns").get_by_role("link", name="CSV").first.click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows
        assert all(r["key"].startswith("HOUSING-") for r in rows)
        assert sum(int(r["submitted"]) for r in rows) == narrowed

    def test_an_official_sees_their_own_department_only(
        self, analytics_app: FastAPI, analytics_page: Page
    ) -> None:
        page = analytics_page
        official_login(analytics_app, page, "samr_officer")
        page.goto("/analytics")
        expect(page.get_by_test_id("processing")).to_contain_text("市场监督管理局")
        expect(page.get_by_test_id("processing")).not_to_contain_text("住房和城乡建设局")
        expect(page.locator("select[name=department]")).to_have_count(0)


@pytest.mark.browser
class TestWarnings:
    def test_a_supervisor_sees_cases_close_to_their_limit(
        self, analytics_app: FastAPI, analytics_page: Page, artifacts: Path
    ) -> None:
        page = analytics_page
        official_login(analytics_app, page, "supervisor")
        page.goto("/analytics")
        page.get_by_role("link", name="预警").click()
        expect(page.get_by_role("heading", name="预警", exact=True)).to_be_visible()
        expect(page.get_by_test_id("at-risk")).to_be_visible()
        page.screenshot(path=str(artifacts / "analytics-warnings.png"), full_page=True)


class TestPagesOverHttp:
    def test_the_dashboard_in_english(self, analytics_app: FastAPI) -> None:
        client = page_client(analytics_app, "supervisor")
        response = client.get("/analytics?lang=en&by=channel&period=week")
        assert response.status_code == 200
        assert "Service statistics" in response.text
        assert "Applied online" in response.text
        assert "<script" not in response.text

    def test_an_applicant_gets_the_error_page(self, analytics_app: FastAPI) -> None:
        client = TestClient(analytics_app, follow_redirects=False)
        submit(client, "/login", {"username": "lisi", "password": PASSWORD})
        response = client.get("/analytics", headers={"Accept": "text/html"})
        assert response.status_code == 403
        assert "政务服务统计仅供工作人员和督查人员查看。" in response.text

    def test_a_bad_date_is_named(self, analytics_app: FastAPI) -> None:
        client = page_client(analytics_app, "supervisor")
        response = client.get("/analytics?start=soon", headers={"Accept": "text/html"})
        assert response.status_code == 422
        assert "soon 不是有效日期" in response.text
