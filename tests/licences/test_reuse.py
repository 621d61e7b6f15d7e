"""Issue 10, part 4: a material the applicant's (or their company's) valid licence satisfies is
attached from the licence on the applicant's confirmation, not uploaded; the reviewer sees it
verified (grade A) and the item's count of materials not re-submitted grows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.helpers import act, valid_form
from tests.applications.test_company_applications import acting_as_agent
from tests.conftest import sign_in
from tests.fixtures.files import pdf_bytes
from tests.licences.helpers import approved, wallet

ITEM = "SAMR-0003"  # 食品经营许可: asks for the business licence


def _start(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/applications",
        headers=headers,
        json={"item_code": ITEM, "form": valid_form(client, ITEM)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _upload_all_but(client: TestClient, headers: dict[str, str], number: str, skip: str) -> None:
    item = client.get(f"/api/v1/items/{ITEM}").json()
    for material in item["materials"]:
        if material["required"] and material["code"] != skip:
            response = client.post(
                f"/api/v1/applications/{number}/materials",
                headers=headers,
                data={"requirement_code": material["code"]},
                files={"file": (f"{material['code']}.pdf", pdf_bytes(), "application/pdf")},
            )
            assert response.status_code == 201, response.text


def _figure(client: TestClient) -> int:
    response = client.get("/api/v1/licences/not-resubmitted")
    assert response.status_code == 200
    return int(response.json().get(ITEM, 0))


def _reuse(client: TestClient, headers: dict[str, str], licence: dict[str, Any]) -> str:
    number = _start(client, headers)
    offers = client.get(f"/api/v1/applications/{number}/licence-offers", headers=headers).json()
    assert [(o["requirement_code"], o["licence_number"], o["attached"]) for o in offers] == [
        ("business_licence", licence["number"], False)
    ]
    # Submitting without the material or the confirmation is refused: nothing is automatic.
    _upload_all_but(client, headers, number, "business_licence")
    refused = act(client, headers, number, "submit")
    assert refused.status_code == 422, refused.text
    confirmed = client.post(
        f"/api/v1/applications/{number}/licence-evidence",
        headers=headers,
        json={"requirement_code": "business_licence", "licence_number": licence["number"]},
    )
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["grade"] == "A"
    assert confirmed.json()["verified"] is True
    twice = client.post(
        f"/api/v1/applications/{number}/licence-evidence",
        headers=headers,
        json={"requirement_code": "business_licence", "licence_number": licence["number"]},
    )
    assert twice.status_code == 409
    offers = client.get(f"/api/v1/applications/{number}/licence-offers", headers=headers).json()
    assert offers[0]["attached"] is True
    submitted = act(client, headers, number, "submit")
    assert submitted.status_code == 200, submitted.text
    return number


def test_a_persons_business_licence_stands_in_for_the_upload(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    before = _figure(client)
    licence = approved(client, applicant_headers, "SAMR-0001")
    number = _reuse(client, applicant_headers, licence)
    # The reviewer sees the material as a verified licence, grade A.
    official = sign_in(client, "samr_officer")
    evidence = client.get(f"/api/v1/applications/{number}/licence-evidence", headers=official)
    assert evidence.status_code == 200
    [row] = evidence.json()
    assert (row["requirement_code"], row["licence_number"], row["grade"], row["verified"]) == (
        "business_licence",
        licence["number"],
        "A",
        True,
    )
    case = client.get(f"/api/v1/applications/{number}", headers=official).json()
    attached = [m for m in case["materials"] if m["requirement_code"] == "business_licence"]
    assert len(attached) == 1
    assert attached[0]["filename"] == f"{licence['number']}.pdf"
    assert _figure(client) == before + 1
    # Revoked afterwards: the reviewer sees at once that it no longer verifies.
    client.post(
        f"/api/v1/licences/{licence['number']}/revoke", headers=official, json={"reason": "撤销"}
    )
    [row] = client.get(f"/api/v1/applications/{number}/licence-evidence", headers=official).json()
    assert row["verified"] is False


def test_a_companys_licence_serves_the_person_acting_for_it(
    client: TestClient, engine: Engine
) -> None:
    headers, uscc = acting_as_agent(client, engine, "临江味道餐饮有限公司")
    licence = approved(client, headers, "SAMR-0002")
    assert licence["holder_kind"] == "company"
    assert licence["holder_id_number"] == uscc
    assert licence["holder_name"] == "临江味道餐饮有限公司"
    _reuse(client, headers, licence)
    # Not acting for the company: the person's own wallet does not hold the company's licence.
    client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": None})
    assert licence["number"] not in {lic["number"] for lic in wallet(client, headers)}


def test_someone_elses_licence_cannot_be_attached(
    client: TestClient, applicant_headers: dict[str, str], engine: Engine
) -> None:
    from tests.identity.factories import api_sign_in, new_citizen

    licence = approved(client, applicant_headers, "SAMR-0001")
    other = api_sign_in(client, new_citizen(engine))
    number = _start(client, other)
    assert client.get(f"/api/v1/applications/{number}/licence-offers", headers=other).json() == []
    response = client.post(
        f"/api/v1/applications/{number}/licence-evidence",
        headers=other,
        json={"requirement_code": "business_licence", "licence_number": licence["number"]},
    )
    assert response.status_code == 404
