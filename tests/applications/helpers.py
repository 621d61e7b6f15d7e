"""Filling demo items' forms and materials through the API, shared by the application tests."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.applications.factories import USCC
from tests.fixtures.files import pdf_bytes

# SAMR-0001 (individual business registration): a valid complete form.
ITEM = "SAMR-0001"


def valid_form(client: httpx.Client, item_code: str = ITEM) -> dict[str, Any]:
    """A complete, valid form for any demo item, built from its field schema (through the
    test client or a real one: the benchmarks fill forms with it too)."""
    item = client.get(f"/api/v1/items/{item_code}").json()
    values: dict[str, Any] = {}
    for field in item["fields"]:
        match field["type"]:
            case "text" | "textarea":
                values[field["name"]] = "测试"
            case "number":
                values[field["name"]] = str(field.get("min") or 1)
            case "date":
                values[field["name"]] = "2026-12-01"
            case "select":
                values[field["name"]] = field["options"][0]["value"]
            case "id_number":
                values[field["name"]] = "330102199003071230"
            case "credit_code":
                values[field["name"]] = USCC
            case "phone":
                values[field["name"]] = "13800138000"
            case "email":
                values[field["name"]] = "zhang@example.cn"
            case "checkbox":
                values[field["name"]] = True
    return values


def upload_required(
    client: TestClient, headers: dict[str, str], number: str, item_code: str = ITEM
) -> None:
    item = client.get(f"/api/v1/items/{item_code}").json()
    for material in item["materials"]:
        if material["required"]:
            response = client.post(
                f"/api/v1/applications/{number}/materials",
                headers=headers,
                data={"requirement_code": material["code"]},
                files={"file": (f"{material['code']}.pdf", pdf_bytes(), "application/pdf")},
            )
            assert response.status_code == 201, response.text


def submitted_application(
    client: TestClient,
    headers: dict[str, str],
    item_code: str = ITEM,
    values: dict[str, Any] | None = None,
) -> str:
    """Apply for ``item_code`` with a valid form (``values`` replacing some of it) and submit."""
    response = client.post(
        "/api/v1/applications",
        headers=headers,
        json={"item_code": item_code, "form": valid_form(client, item_code) | (values or {})},
    )
    assert response.status_code == 201, response.text
    number = str(response.json()["number"])
    upload_required(client, headers, number, item_code)
    response = client.post(
        f"/api/v1/applications/{number}/actions", headers=headers, json={"action": "submit"}
    )
    assert response.status_code == 200, response.text
    return number


def act(
    client: TestClient,
    headers: dict[str, str],
    number: str,
    action: str,
    reason: str = "",
    **extra: str,
) -> Any:
    return client.post(
        f"/api/v1/applications/{number}/actions",
        headers=headers,
        json={"action": action, "reason": reason, **extra},
    )
