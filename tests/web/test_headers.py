"""Security headers on pages, the API and the offline API docs, on errors too (a 500 included);
integers in requests bounded, so none overflows the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, create_engine

from tests.identity.factories import new_citizen
from tests.identity.test_pages import signed_in
from tongban.web.app import create_app
from tongban.web.deps import SESSION_COOKIE


class TestSecurityHeaders:
    def test_pages_forbid_inline_script_and_framing(self, client: TestClient) -> None:
        response = client.get("/")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text

    def test_pages_with_personal_data_are_not_cached(self, app: FastAPI, engine: Engine) -> None:
        # A signed-in person's page names them: even the catalog's (a visitor's is the same for
        # everyone, tests/catalog/test_conditional.py).
        client = signed_in(app, new_citizen(engine))
        for path in ("/items", "/", "/applications"):
            assert client.get(path).headers["cache-control"] == "no-store", path

    def test_api_docs_work_offline(self, client: TestClient) -> None:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "cdn" not in docs.text.lower()
        script = client.get("/static-offline-docs/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert client.get("/openapi.json").json()["paths"]["/api/v1/applications"]


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_security_headers(response: Response) -> None:
    assert {k: response.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.fixture
def broken(tmp_path: Path) -> TestClient:
    """The app over a database that cannot be opened: whatever reads it fails unexpectedly."""
    engine = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'tongban.db'}")
    return TestClient(create_app(engine), raise_server_exceptions=False)


class TestServerErrors:
    def test_an_api_500_carries_the_security_headers_and_is_not_cached(
        self, broken: TestClient
    ) -> None:
        response = broken.get("/api/v1/notifications", headers={"Authorization": "Bearer x"})
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store"

    def test_a_page_500_carries_the_security_headers(self, broken: TestClient) -> None:
        broken.cookies.set(SESSION_COOKIE, "x")
        response = broken.get("/me/data-use", headers={"Accept": "text/html"})
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert_security_headers(response)


class TestCaching:
    @pytest.mark.parametrize(
        "path", ["/api/v1/federation/nodes", "/api/v1/me/data-use", "/api/v1/no-such-thing"]
    )
    def test_api_answers_are_not_cached_success_or_error(
        self, client: TestClient, path: str
    ) -> None:
        response = client.get(path)
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["cache-control"] == "no-store"
        assert_security_headers(response)

    def test_the_public_catalog_is_kept_only_if_asked_again_each_time(
        self, client: TestClient
    ) -> None:
        response = client.get("/api/v1/items")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["etag"]
        assert_security_headers(response)

    def test_the_providers_public_metadata_keeps_its_own_caching(self, client: TestClient) -> None:
        response = client.get("/.well-known/openid-configuration")
        assert response.headers["cache-control"] == "public, max-age=3600"


class TestIntegerParameters:
    @pytest.mark.parametrize("page", ["99999999999999999999", "1000001", "0", "-1"])
    def test_a_page_out_of_range_is_invalid_input(
        self, client: TestClient, applicant_headers: dict[str, str], page: str
    ) -> None:
        response = client.get(
            "/api/v1/me/data-use", params={"page": page}, headers=applicant_headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "page"
        assert_security_headers(response)

    def test_the_page_of_the_pages_refuses_it_too(self, app: FastAPI, engine: Engine) -> None:
        pages = signed_in(app, new_citizen(engine))
        response = pages.get("/me/data-use", params={"page": "99999999999999999999"})
        assert response.status_code == 422

    # 2**31 overflows PostgreSQL's INTEGER ids, 10**20 SQLite's 64-bit ones.
    @pytest.mark.parametrize("row_id", [str(2**31), "99999999999999999999", "0"])
    def test_an_id_beyond_the_databases_integers_is_invalid_input(
        self, client: TestClient, applicant_headers: dict[str, str], row_id: str
    ) -> None:
        response = client.get(f"/api/v1/notifications/{row_id}", headers=applicant_headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "notification_id"

    def test_the_largest_id_is_looked_up(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        response = client.get(f"/api/v1/notifications/{2**31 - 1}", headers=applicant_headers)
        assert response.status_code == 404
