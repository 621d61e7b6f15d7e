"""Citizens open their own applicant accounts through the API."""

from __future__ import annotations

import random
import uuid

from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tongban.identity.numbers import resident_id_check_character


def fresh_id_number() -> str:
    body = f"330102{random.randint(1950, 2005)}0{random.randint(1, 9)}1{random.randint(0, 8)}"
    body += f"{random.randint(0, 999):03d}"
    return body + resident_id_check_character(body)


def registration(**overrides: str) -> dict[str, str]:
    return {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": "a-long-password",
        "display_name": "王小明",
        "id_number": fresh_id_number(),
        "phone": "13700137000",
    } | overrides


class TestRegister:
    def test_new_citizen_can_register_and_sign_in(self, client: TestClient) -> None:
        body = registration()
        response = client.post("/api/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["kind"] == "applicant"
        headers = sign_in(client, body["username"], body["password"])
        assert client.get("/api/v1/me", headers=headers).json()["display_name"] == "王小明"

    def test_bad_check_digit_is_refused_naming_the_field(self, client: TestClient) -> None:
        good = fresh_id_number()
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        response = client.post("/api/v1/accounts", json=registration(id_number=bad))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "id_number"

    def test_one_account_per_id_number(self, client: TestClient) -> None:
        id_number = fresh_id_number()
        assert (
            client.post("/api/v1/accounts", json=registration(id_number=id_number)).status_code
            == 201
        )
        again = client.post("/api/v1/accounts", json=registration(id_number=id_number))
        assert again.status_code == 409
        assert again.json()["error"]["field"] == "id_number"

    def test_taken_username_is_409(self, client: TestClient) -> None:
        response = client.post("/api/v1/accounts", json=registration(username="zhangsan"))
        assert response.status_code == 409
        assert response.json()["error"]["field"] == "username"

    def test_short_password_is_refused(self, client: TestClient) -> None:
        response = client.post("/api/v1/accounts", json=registration(password="short"))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "password"

    def test_signed_in_subject_cannot_register_another_account(self, client: TestClient) -> None:
        headers = sign_in(client, "zhangsan")
        response = client.post("/api/v1/accounts", json=registration(), headers=headers)
        assert response.status_code == 403
