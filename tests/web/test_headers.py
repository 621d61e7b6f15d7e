"""Security headers on pages and the offline API docs."""

from __future__ import annotations

from fastapi.testclient import TestClient


class TestSecurityHeaders:
    def test_pages_forbid_inline_script_and_framing(self, client: TestClient) -> None:
        response = client.get("/")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text

    def test_pages_with_personal_data_are_not_cached(self, client: TestClient) -> None:
        assert client.get("/items").headers["cache-control"] == "no-store"

    def test_api_docs_work_offline(self, client: TestClient) -> None:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "cdn" not in docs.text.lower()
        script = client.get("/static-offline-docs/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert client.get("/openapi.json").json()["paths"]["/api/v1/applications"]
