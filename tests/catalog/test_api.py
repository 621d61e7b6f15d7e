"""The public service guide over HTTP: search, item detail, errors and languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tongban.catalog import service as catalog_service

DEMO_DEPARTMENTS, DEMO_ITEMS = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
SPECS = {spec.code: spec for spec in DEMO_ITEMS}
HAN = re.compile(r"[\u4e00-\u9fff]")


DEMO_CODES = {d.code for d in DEMO_DEPARTMENTS}


def codes(response_json: list[dict[str, object]]) -> list[str]:
    """The demo catalog's items among those found: other tests (connectors, the drill) add
    departments of their own to the shared database."""
    return [
        str(entry["code"])
        for entry in response_json
        if str(entry["code"]).split("-", 1)[0] in DEMO_CODES
    ]


class TestSearchItems:
    def test_without_filters_lists_every_item_in_code_order(self, client: TestClient) -> None:
        response = client.get("/api/v1/items")
        assert response.status_code == 200
        found = codes(response.json())
        assert found == sorted(SPECS)

    @pytest.mark.parametrize("words", ["护照", "营业执照", "公积金", "passport"])
    def test_finds_items_by_words_in_name_or_summary(self, client: TestClient, words: str) -> None:
        response = client.get("/api/v1/items", params={"q": words})

        assert response.status_code == 200
        expected = {
            code
            for code, spec in SPECS.items()
            if any(
                words.lower() in text.lower()
                for text in (code, spec.name_zh, spec.name_en, spec.summary_zh, spec.summary_en)
            )
        }
        assert expected, f"the demo catalog mentions {words}"
        assert set(codes(response.json())) == expected

    def test_finds_the_passport_item_by_its_chinese_name(self, client: TestClient) -> None:
        found = client.get("/api/v1/items", params={"q": "护照"}).json()
        assert "普通护照签发" in [entry["name_zh"] for entry in found]

    def test_finds_nothing_for_words_no_item_has(self, client: TestClient) -> None:
        response = client.get("/api/v1/items", params={"q": "宇宙飞船驾照"})
        assert response.status_code == 200
        assert response.json() == []

    @pytest.mark.parametrize("department", ["SAMR", "PSB", "MCA", "HRSS", "HOUSING", "TAX"])
    def test_filters_by_department(self, client: TestClient, department: str) -> None:
        found = client.get("/api/v1/items", params={"department": department}).json()

        assert set(codes(found)) == {
            code for code, spec in SPECS.items() if spec.department == department
        }
        assert {entry["department"]["code"] for entry in found} == {department}

    @pytest.mark.parametrize("audience", ["person", "company"])
    def test_filters_by_audience_including_items_for_both(
        self, client: TestClient, audience: str
    ) -> None:
        found = client.get("/api/v1/items", params={"audience": audience}).json()

        assert set(codes(found)) == {
            code for code, spec in SPECS.items() if spec.audience in (audience, "both")
        }

    def test_combines_filters(self, client: TestClient) -> None:
        found = client.get(
            "/api/v1/items", params={"department": "TAX", "audience": "company", "online": "true"}
        ).json()

        assert set(codes(found)) == {
            code
            for code, spec in SPECS.items()
            if spec.department == "TAX" and spec.audience in ("company", "both") and spec.online
        }

    def test_online_only_leaves_out_counter_only_items(self, client: TestClient) -> None:
        found = client.get("/api/v1/items", params={"online": "true"}).json()
        assert found
        assert all(entry["online"] for entry in found)
        assert set(codes(found)) == {code for code, spec in SPECS.items() if spec.online}

    def test_an_unknown_audience_is_422_in_the_error_shape(self, client: TestClient) -> None:
        response = client.get("/api/v1/items", params={"audience": "alien"})
        assert response.status_code == 422
        error = response.json()["error"]
        assert set(error) == {"code", "message", "field"}
        assert error["code"] == "invalid_input"
        assert error["field"] == "audience"


class TestGetItem:
    def test_shows_the_guide_with_its_materials_and_fields(self, client: TestClient) -> None:
        spec = SPECS["SAMR-0001"]

        response = client.get("/api/v1/items/SAMR-0001")

        assert response.status_code == 200
        body = response.json()
        assert body["name_zh"] == spec.name_zh
        assert body["department"]["code"] == "SAMR"
        assert (body["promised_days"], body["statutory_days"]) == (
            spec.promised_days,
            spec.statutory_days,
        )
        assert body["legal_basis_zh"] == spec.legal_basis_zh
        assert [(m["code"], m["required"], m["types"], m["max_mb"]) for m in body["materials"]] == [
            (m.code, m.required, m.types, m.max_mb) for m in spec.materials
        ]
        assert [(f["name"], f["type"], f["required"]) for f in body["fields"]] == [
            (f.name, f.type, f.required) for f in spec.fields
        ]
        select = next(f for f in body["fields"] if f["type"] == "select")
        assert len(select["options"]) >= 2
        assert body["version"] >= 1

    @pytest.mark.parametrize("code", sorted(SPECS))
    def test_every_item_has_its_materials_and_fields(self, client: TestClient, code: str) -> None:
        body = client.get(f"/api/v1/items/{code}").json()
        assert [m["code"] for m in body["materials"]] == [m.code for m in SPECS[code].materials]
        assert [f["name"] for f in body["fields"]] == [f.name for f in SPECS[code].fields]

    def test_an_unknown_code_is_404_in_the_error_shape(self, client: TestClient) -> None:
        response = client.get("/api/v1/items/NOPE-9999")

        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "code": "item_not_found",
                "message": "没有编码为 NOPE-9999 的事项。",
                "field": "item_code",
            }
        }

    def test_an_unknown_code_is_explained_in_english_on_request(self, client: TestClient) -> None:
        response = client.get(
            "/api/v1/items/NOPE-9999", headers={"Accept-Language": "en-GB,en;q=0.9"}
        )

        assert response.status_code == 404
        assert response.json()["error"]["message"] == "No service item has the code NOPE-9999."

    @pytest.mark.parametrize(
        "accept_language", [None, "zh-CN,zh;q=0.9", "fr-FR", "de, zh-TW;q=0.5"]
    )
    def test_chinese_is_the_default_and_the_fallback(
        self, client: TestClient, accept_language: str | None
    ) -> None:
        headers = {"Accept-Language": accept_language} if accept_language else {}
        message = client.get("/api/v1/items/NOPE-9999", headers=headers).json()["error"]["message"]
        assert HAN.search(message)
        assert "NOPE-9999" in message

    def test_the_lang_parameter_overrides_the_header(self, client: TestClient) -> None:
        response = client.get(
            "/api/v1/items/NOPE-9999", params={"lang": "en"}, headers={"Accept-Language": "zh-CN"}
        )
        assert not HAN.search(response.json()["error"]["message"])


class TestListDepartments:
    def test_lists_the_demo_departments_in_code_order(self, client: TestClient) -> None:
        response = client.get("/api/v1/departments")
        assert response.status_code == 200
        found = [d["code"] for d in response.json() if d["code"] in DEMO_CODES]
        assert found == sorted(DEMO_CODES)
        assert {"SAMR", "PSB", "MCA", "HRSS", "HOUSING", "TAX"} <= set(found)


class TestUnknownRoutes:
    def test_an_unknown_api_path_is_404_in_the_error_shape(self, client: TestClient) -> None:
        response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
        assert response.status_code == 404
        assert response.json() == {
            "error": {"code": "not_found", "message": "Not found.", "field": None}
        }


class TestSearchWildcards:
    def test_percent_and_underscore_are_searched_literally(self, client: TestClient) -> None:
        assert client.get("/api/v1/items", params={"q": "%"}).json() == []
        assert client.get("/api/v1/items", params={"q": "_"}).json() == []
        assert client.get("/api/v1/items", params={"q": "护%照"}).json() == []
