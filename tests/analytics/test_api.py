"""The analytics API over real HTTP: every figure as JSON and CSV, the warnings, and who may
read which."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tongban.analytics.queries import FIGURES


class TestFiguresApi:
    def test_lists_every_figure(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "supervisor")
        response = analytics_client.get("/api/v1/analytics/figures", headers=headers)
        assert response.status_code == 200
        assert [f["name"] for f in response.json()] == list(FIGURES)

    @pytest.mark.parametrize("name", list(FIGURES))
    def test_every_figure_as_json_and_csv(self, analytics_client: TestClient, name: str) -> None:
        headers = sign_in(analytics_client, "supervisor")
        url = f"/api/v1/analytics/figures/{name}?by=item&period=week"
        body = analytics_client.get(url, headers=headers).json()
        assert body["name"] == name
        assert body["source"] == "live"
        assert body["filters"]["by"] == "item"
        assert body["rows"]
        assert set(body["rows"][0]) == set(body["columns"])

        response = analytics_client.get(url + "&format=csv", headers=headers)
        assert response.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
        assert table[0] == body["columns"]
        assert len(table) == len(body["rows"]) + 1

    def test_an_official_gets_their_department_only(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "tax_officer")
        body = analytics_client.get("/api/v1/analytics/figures/returns", headers=headers).json()
        assert [r["key"] for r in body["rows"]] == ["TAX"]
        response = analytics_client.get(
            "/api/v1/analytics/figures/returns?department=SAMR", headers=headers
        )
        assert response.status_code == 403

    def test_an_applicant_is_refused(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "zhangsan")
        response = analytics_client.get("/api/v1/analytics/figures/summary", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_not_signed_in_is_refused(self, analytics_client: TestClient) -> None:
        assert analytics_client.get("/api/v1/analytics/figures/summary").status_code == 401

    def test_an_unknown_figure_is_not_found(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "supervisor")
        response = analytics_client.get("/api/v1/analytics/figures/nonsense", headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "figure_not_found"

    def test_a_bad_filter_names_its_field(self, analytics_client: TestClient) -> None:
        headers = sign_in(analytics_client, "supervisor") | {"Accept-Language": "en"}
        response = analytics_client.get(
            "/api/v1/analytics/figures/summary?start=2026-05-01&end=2026-04-01", headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "start"
