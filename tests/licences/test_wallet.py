"""Issue 10, part 5: the holder's wallet (licences, PDF download) and share links that show the
public view until they expire or are withdrawn, and are refused afterwards; a licence past its
validity verifies as expired."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.identity.factories import MovingClock
from tests.licences.helpers import approved, pdf_of, wallet


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def test_wallet_lists_the_licence_and_serves_its_pdf(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    import io

    from pypdf import PdfReader

    licence = approved(client, applicant_headers)
    assert licence["number"] in {lic["number"] for lic in wallet(client, applicant_headers)}
    data = pdf_of(client, applicant_headers, licence["number"])
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "营业执照" in text
    assert licence["number"] in text
    page = client.get("/licences", headers=applicant_headers)
    # Pages sign in by cookie; the API token does not open them.
    assert page.status_code in (200, 303, 307)


def test_share_link_shows_the_public_view_until_withdrawn(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    created = client.post(
        f"/api/v1/licences/{licence['number']}/shares",
        headers=applicant_headers,
        json={"days": 7, "note": "银行开户"},
    )
    assert created.status_code == 201, created.text
    token = _token(created.json()["url"])
    shown = client.get(f"/api/v1/licences/shared/{token}")
    assert shown.status_code == 200
    assert shown.json()["number"] == licence["number"]
    # The public view: the operator's ID number is masked.
    assert shown.json()["holder_id_number"] != licence["holder_id_number"]
    page = client.get(f"/licences/shared/{token}")
    assert page.status_code == 200
    assert licence["number"] in page.text
    listed = client.get(f"/api/v1/licences/{licence['number']}/shares", headers=applicant_headers)
    [link] = listed.json()
    assert link["live"] is True
    assert link["url"] == ""  # the token is shown once only
    withdrawn = client.delete(f"/api/v1/licences/shares/{link['id']}", headers=applicant_headers)
    assert withdrawn.status_code == 204
    refused = client.get(f"/api/v1/licences/shared/{token}")
    assert refused.status_code == 410
    assert refused.json()["error"]["code"] == "share_ended"
    page = client.get(f"/licences/shared/{token}")
    assert page.status_code == 410
    assert licence["number"] not in page.text
    assert client.get("/api/v1/licences/shared/not-a-token").status_code == 404


def test_share_link_is_refused_after_it_expires(
    client: TestClient, applicant_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tongban.kit import clock

    licence = approved(client, applicant_headers)
    created = client.post(
        f"/api/v1/licences/{licence['number']}/shares",
        headers=applicant_headers,
        json={"days": 1},
    )
    token = _token(created.json()["url"])
    assert client.get(f"/api/v1/licences/shared/{token}").status_code == 200
    moved = MovingClock(clock.utcnow() + timedelta(days=1, seconds=1))
    monkeypatch.setattr(clock, "utcnow", moved)
    refused = client.get(f"/licences/shared/{token}", headers={"Accept-Language": "en"})
    assert refused.status_code == 410
    assert "expired" in refused.text


def test_a_permit_past_its_validity_verifies_as_expired(
    client: TestClient, applicant_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tongban.kit import clock

    permit = approved(client, applicant_headers, "SAMR-0003")
    assert permit["type_code"] == "food_business_permit"
    assert permit["expires_on"] is not None
    query = parse_qs(urlsplit(permit["verify_url"]).query)
    params = {"n": query["n"][0], "s": query["s"][0]}
    assert client.get("/api/v1/licences/verify", params=params).json()["outcome"] == "genuine"
    monkeypatch.setattr(clock, "utcnow", MovingClock(clock.utcnow() + timedelta(days=5 * 366)))
    assert client.get("/api/v1/licences/verify", params=params).json()["outcome"] == "expired"


def test_only_the_holder_and_the_issuing_department_see_the_whole_licence(
    client: TestClient, applicant_headers: dict[str, str], engine: Engine
) -> None:
    from tests.conftest import sign_in
    from tests.identity.factories import api_sign_in, new_citizen

    licence = approved(client, applicant_headers)
    number = licence["number"]
    stranger = api_sign_in(client, new_citizen(engine))
    other_department = sign_in(client, "psb_officer")
    for headers in (stranger, other_department):
        assert client.get(f"/api/v1/licences/{number}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/licences/{number}/pdf", headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/licences/{number}/shares", headers=stranger, json={}).status_code
        == 404
    )
    issuer = client.get(f"/api/v1/licences/{number}", headers=sign_in(client, "samr_officer"))
    assert issuer.status_code == 200
    assert issuer.json()["holder_id_number"] == licence["holder_id_number"]
    assert client.get(f"/api/v1/licences/{number}").status_code == 401


def test_the_published_key_file_is_served_for_download(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    from tongban.licences import keys, seal

    licence = approved(client, applicant_headers)
    key_id = seal.read_pdf(pdf_of(client, applicant_headers, licence["number"])).key_id
    response = client.get(f"/licences/keys/{key_id}.json")
    assert response.status_code == 200
    parsed = keys.parse_key_file(response.text)
    assert parsed.key_id == key_id
    assert parsed.department == "SAMR"
    assert client.get("/licences/keys/SAMR-none.json").status_code == 404
    page = client.get("/licences/keys")
    assert key_id in page.text
