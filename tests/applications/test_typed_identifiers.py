"""A form field of a typed identifier (resident ID, unified social credit code, phone) is checked
as registration checks it: the same value is refused by both, with the same message."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.applications.factories import USCC
from tests.applications.helpers import valid_form
from tests.identity.test_registration_api import fresh_id_number, registration
from tongban.catalog.schemas import FieldSpec
from tongban.identity import numbers

FOOD = "SAMR-0003"  # food business licence: a credit code and a contact phone


def wrong_check_character(code: str, alphabet: str) -> str:
    return code[:17] + next(c for c in alphabet if c != code[17])


BAD_USCC = wrong_check_character(USCC, numbers.USCC_ALPHABET)


def apply_with(client: TestClient, headers: dict[str, str], **values: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/applications",
        headers={**headers, "Accept-Language": "en"},
        json={"item_code": FOOD, "form": valid_form(client, FOOD) | values},
    )
    assert response.status_code == 422, response.text
    error: dict[str, str] = response.json()["error"]
    return error


class TestFormFields:
    def test_a_credit_code_with_a_wrong_check_character_is_refused(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        error = apply_with(client, applicant_headers, credit_code=BAD_USCC)
        assert error["field"] == "credit_code"
        assert error["message"] == numbers.uscc_problem(BAD_USCC)

    def test_a_valid_credit_code_is_taken_in_capitals(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/v1/applications",
            headers=applicant_headers,
            json={
                "item_code": FOOD,
                "form": valid_form(client, FOOD) | {"credit_code": USCC.lower()},
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["form_data"]["credit_code"] == USCC

    @pytest.mark.parametrize("phone", ["12800138000", "1380013800", "138001380001", "abc"])
    def test_a_phone_registration_refuses_is_refused(
        self, client: TestClient, applicant_headers: dict[str, str], phone: str
    ) -> None:
        error = apply_with(client, applicant_headers, contact_phone=phone)
        assert error["field"] == "contact_phone"
        refused = client.post(
            "/api/v1/accounts",
            headers={"Accept-Language": "en"},
            json=registration(phone=phone),
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["field"] == "phone"

    def test_a_resident_id_registration_refuses_is_refused(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        bad = wrong_check_character(fresh_id_number(), "0123456789X")
        form = valid_form(client) | {"operator_id_number": bad}
        response = client.post(
            "/api/v1/applications",
            headers={**applicant_headers, "Accept-Language": "en"},
            json={"item_code": "SAMR-0001", "form": form},
        )
        registered = client.post(
            "/api/v1/accounts", headers={"Accept-Language": "en"}, json=registration(id_number=bad)
        )
        assert response.status_code == registered.status_code == 422
        assert response.json()["error"]["message"] == registered.json()["error"]["message"]


class TestCatalog:
    @pytest.mark.parametrize(("name", "kind"), [("credit_code", "text"), ("id_number", "text")])
    def test_a_field_named_for_an_identifier_must_have_its_type(self, name: str, kind: str) -> None:
        with pytest.raises(ValueError, match="identifier"):
            FieldSpec.model_validate(
                {
                    "name": name,
                    "type": kind,
                    "label_zh": "代码",
                    "label_en": "Code",
                    "security_label": "public",
                }
            )
