"""Issue 10, parts 1 and 2: a licence issued on approval, verified online (QR link and PDF)
and offline (PDF and published key, no database); a tampered PDF, a forged QR payload, an
unknown key and a revoked licence each refused plainly."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tests.licences.helpers import approved, pdf_of
from tongban.licences import keys, pdf, seal, types, verification
from tongban.security.crypto import get_suite


def _verify_pdf(client: TestClient, data: bytes) -> dict:
    response = client.post(
        "/api/v1/licences/verify", files={"file": ("licence.pdf", data, "application/pdf")}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _key_file(client: TestClient, key_id: str) -> keys.PublishedKey:
    published = client.get("/api/v1/licences/keys").json()
    entry = next(k for k in published if k["key_id"] == key_id)
    return keys.PublishedKey(
        entry["department_code"],
        entry["department_name"],
        entry["key_id"],
        entry["suite"],
        bytes.fromhex(entry["public_key"]),
    )


def test_approval_issues_a_signed_licence_with_the_case_data(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    assert licence["type_code"] == "business_licence"
    assert licence["status"] == "valid"
    assert licence["department_code"] == "SAMR"
    assert licence["holder_kind"] == "person"
    assert licence["holder_id_number"] == "330102199003071230"
    assert licence["expires_on"] is None  # a business licence is valid until revoked
    fields = {f["name"]: f["value"] for f in licence["fields"]}
    assert fields["business_name"] == "测试"
    assert fields["registered_on"] == licence["issued_on"]
    data = pdf_of(client, applicant_headers, licence["number"])
    embedded = seal.read_pdf(data)
    assert embedded.payload["number"] == licence["number"]
    assert embedded.payload["holder"]["id_number"] == "330102199003071230"


def test_verified_online_by_qr_link_and_by_pdf(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    query = parse_qs(urlsplit(licence["verify_url"]).query)
    by_link = client.get("/api/v1/licences/verify", params={"n": query["n"][0], "s": query["s"][0]})
    assert by_link.status_code == 200
    assert by_link.json()["outcome"] == "genuine"
    # The public sees the business name, not the operator's ID number in full.
    public = by_link.json()["licence"]
    assert public["number"] == licence["number"]
    assert public["holder_id_number"] != "330102199003071230"
    by_pdf = _verify_pdf(client, pdf_of(client, applicant_headers, licence["number"]))
    assert by_pdf["outcome"] == "genuine"
    assert by_pdf["licence"]["number"] == licence["number"]


def test_one_changed_byte_anywhere_in_the_pdf_is_refused(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    data = pdf_of(client, applicant_headers, licence["number"])
    for position in (len(data) // 3, len(data) // 2, data.find(b"/TongbanLicence") + 20):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        verdict = _verify_pdf(client, bytes(tampered))
        assert verdict["outcome"] == "not_genuine", position
        assert verdict["licence"] is None


def test_a_forged_qr_payload_is_refused(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    query = parse_qs(urlsplit(licence["verify_url"]).query)
    signature = bytearray(seal.unb64(query["s"][0]))
    signature[5] ^= 0xFF
    forged = [
        {"n": query["n"][0], "s": seal.b64(bytes(signature))},
        {"n": query["n"][0], "s": "not-a-signature"},
        {"n": "SAMR2026L99999999XX", "s": query["s"][0]},
    ]
    for params in forged:
        response = client.get("/api/v1/licences/verify", params=params)
        assert response.status_code == 200
        assert response.json()["outcome"] == "not_genuine", params
        assert response.json()["licence"] is None


def test_a_licence_signed_by_an_unknown_key_is_refused(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    """A forger makes a key of their own and seals a copy with the payload changed."""
    licence = approved(client, applicant_headers)
    data = pdf_of(client, applicant_headers, licence["number"])
    embedded = seal.read_pdf(data)
    suite = get_suite(embedded.suite)
    pair = suite.generate_key_pair()
    payload = {**embedded.payload, "key_id": "SAMR-forged-000000"}
    text = seal.payload_text(payload)
    signature = seal.sign_payload(embedded.suite, pair.private, text)
    rendered = pdf.render(
        types.get(payload["type"]), payload, "http://x/", seal.info_entries(text, signature)
    )
    forged = seal.seal_pdf(rendered, lambda d: suite.sign(pair.private, d))
    verdict = _verify_pdf(client, forged)
    assert verdict["outcome"] == "not_genuine"
    assert "key" in verdict["message"] or "密钥" in verdict["message"]


def test_revoked_licence_is_refused_online_with_the_reason_audited(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers)
    number = licence["number"]
    # Only the issuing department revokes, and only with a reason.
    other = sign_in(client, "psb_officer")
    assert (
        client.post(
            f"/api/v1/licences/{number}/revoke", headers=other, json={"reason": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/licences/{number}/revoke", headers=applicant_headers, json={"reason": "x"}
        ).status_code
        == 404
    )
    official = sign_in(client, "samr_officer")
    response = client.post(
        f"/api/v1/licences/{number}/revoke", headers=official, json={"reason": "以欺骗手段取得登记"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    again = client.post(
        f"/api/v1/licences/{number}/revoke", headers=official, json={"reason": "again"}
    )
    assert again.status_code == 409
    query = parse_qs(urlsplit(licence["verify_url"]).query)
    by_link = client.get("/api/v1/licences/verify", params={"n": number, "s": query["s"][0]})
    assert by_link.json()["outcome"] == "revoked"
    by_pdf = _verify_pdf(client, pdf_of(client, applicant_headers, number))
    assert by_pdf["outcome"] == "revoked"
    mine = client.get(f"/api/v1/licences/{number}", headers=applicant_headers).json()
    assert mine["status"] == "revoked"
    assert mine["revoked_reason"] == "以欺骗手段取得登记"


def test_offline_verification_with_the_published_key_needs_no_database(
    client: TestClient, applicant_headers: dict[str, str], tmp_path: Path
) -> None:
    licence = approved(client, applicant_headers)
    data = pdf_of(client, applicant_headers, licence["number"])
    key = _key_file(client, seal.read_pdf(data).key_id)
    # Through the key file format the CLI exports and reads.
    key_path = tmp_path / "samr.json"
    key_path.write_text(key.to_json())
    parsed = keys.parse_key_file(key_path.read_text())
    verdict = verification.offline(data, parsed)
    assert verdict.outcome == "genuine"
    assert verdict.revocation_checked is False
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    assert verification.offline(bytes(tampered), parsed).outcome == "not_genuine"
    other = get_suite(key.suite).generate_key_pair()
    wrong = keys.PublishedKey(key.department, "", key.key_id, key.suite, other.public)
    assert verification.offline(data, wrong).outcome == "not_genuine"
    assert json.loads(key.to_json())["public_key"] == key.public_key.hex()
