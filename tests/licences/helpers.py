"""Getting a licence issued through the API: apply, then the department approves."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.applications.helpers import act, submitted_application
from tests.conftest import sign_in


def wallet(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/licences", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def approved(
    client: TestClient,
    headers: dict[str, str],
    item_code: str = "SAMR-0001",
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply for ``item_code`` and have its department approve it: the licence issued, as its
    holder sees it."""
    before = {lic["number"] for lic in wallet(client, headers)}
    number = submitted_application(client, headers, item_code, values)
    official = sign_in(client, f"{item_code.split('-')[0].lower()}_officer")
    for action in ("accept", "start_review", "approve"):
        response = act(client, official, number, action)
        assert response.status_code == 200, response.text
    issued = [lic for lic in wallet(client, headers) if lic["number"] not in before]
    assert len(issued) == 1, issued
    # Which case it came from, for the tests (not a field of the licence).
    return {**issued[0], "application": number}


def pdf_of(client: TestClient, headers: dict[str, str], number: str) -> bytes:
    response = client.get(f"/api/v1/licences/{number}/pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content
