"""The applications API over real HTTP, end to end and with bad input."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.applications.helpers import ITEM, act, submitted_application, valid_form
from tests.conftest import sign_in
from tests.fixtures.files import PNG, pdf_bytes
from tongban.kit import ids


class TestJourney:
    def test_apply_accept_review_approve_complete(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        assert ids.is_valid(number)

        queue = client.get("/api/v1/queue", headers=official_headers).json()
        assert number in [case["number"] for case in queue]

        for action, status in [
            ("accept", "accepted"),
            ("start_review", "in_review"),
            ("approve", "approved"),
        ]:
            response = act(client, official_headers, number, action)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status
        response = act(
            client, official_headers, number, "complete", result_note="请到窗口领取营业执照"
        )
        assert response.status_code == 200

        seen = client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()
        assert seen["status"] == "completed"
        assert ids.is_valid(seen["result_number"] or "")
        assert seen["result_note"] == "请到窗口领取营业执照"
        assert [h["to_status"] for h in seen["history"]] == [
            "draft",
            "submitted",
            "accepted",
            "in_review",
            "approved",
            "completed",
        ]
        assert seen["time_limit"]["due_on"] >= seen["accepted_at"][:10]
        assert seen["next_actions"] == []

    def test_return_for_correction_then_resubmit(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        response = act(client, official_headers, number, "return", reason="经营场所证明不清晰")
        assert response.json()["status"] == "returned"
        mine = client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()
        assert mine["last_reason"] == "经营场所证明不清晰"
        assert mine["next_actions"] == ["submit", "withdraw"]
        assert act(client, applicant_headers, number, "submit").json()["status"] == "submitted"


class TestBadInput:
    def test_unknown_item_is_404_naming_the_code(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": "NOPE-0001"}
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "item_not_found"
        assert "NOPE-0001" in response.json()["error"]["message"]

    def test_malformed_form_names_the_field(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        form = valid_form(client) | {"operator_id_number": "330102199003071231"}
        response = client.post(
            "/api/v1/applications",
            headers={**applicant_headers, "Accept-Language": "en"},
            json={"item_code": ITEM, "form": form},
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["field"] == "operator_id_number"
        assert "check for a typo" in error["message"]

    def test_unknown_field_is_refused(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/v1/applications",
            headers=applicant_headers,
            json={"item_code": ITEM, "form": {"salary": "1"}},
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "salary"

    def test_incomplete_submission_lists_what_is_missing(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = client.post(
            "/api/v1/applications",
            headers=applicant_headers,
            json={"item_code": ITEM, "form": valid_form(client)},
        ).json()["number"]
        response = act(client, applicant_headers, number, "submit")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "incomplete"
        assert "申请书" in response.json()["error"]["message"]
        assert (
            client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()["status"]
            == "draft"
        )

    def test_wrong_type_upload_is_refused_by_content_not_name(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM}
        ).json()["number"]
        response = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=applicant_headers,
            data={"requirement_code": "id_card"},
            files={"file": ("id.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")},
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "file"

    def test_oversized_upload_is_413_and_nothing_is_stored(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        item = client.get(f"/api/v1/items/{ITEM}").json()
        material = item["materials"][0]
        number = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM}
        ).json()["number"]
        big = PNG + b"\0" * (material["max_mb"] * 1024 * 1024)
        response = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=applicant_headers,
            data={"requirement_code": material["code"]},
            files={"file": ("big.png", big, "image/png")},
        )
        assert response.status_code in (413, 422)
        if "png" in material["types"]:
            assert response.status_code == 413
        assert (
            client.get(f"/api/v1/applications/{number}", headers=applicant_headers).json()[
                "materials"
            ]
            == []
        )

    def test_upload_stores_the_content_hash(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        import hashlib

        number = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM}
        ).json()["number"]
        content = pdf_bytes("hash me")
        response = client.post(
            f"/api/v1/applications/{number}/materials",
            headers=applicant_headers,
            data={"requirement_code": "id_card"},
            files={"file": ("../../etc/passwd.pdf", content, "application/pdf")},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["sha256"] == hashlib.sha256(content).hexdigest()
        assert body["filename"] == "passwd.pdf"
        download = client.get(
            f"/api/v1/applications/{number}/materials/{body['id']}", headers=applicant_headers
        )
        assert download.content == content

    def test_illegal_transition_is_409(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        response = act(client, official_headers, number, "approve")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invalid_transition"

    def test_reason_is_required_to_return(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        response = act(client, official_headers, number, "return", reason="  ")
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "reason"

    def test_applicant_cannot_accept_own_application(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = submitted_application(client, applicant_headers)
        assert act(client, applicant_headers, number, "accept").status_code == 403

    def test_another_applicants_application_is_not_found(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = submitted_application(client, applicant_headers)
        other = sign_in(client, "lisi")
        response = client.get(f"/api/v1/applications/{number}", headers=other)
        assert response.status_code == 404
        assert act(client, other, number, "withdraw").status_code == 404

    def test_official_of_another_department_cannot_see_the_case(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = submitted_application(client, applicant_headers)
        tax = sign_in(client, "tax_officer")
        assert client.get(f"/api/v1/applications/{number}", headers=tax).status_code == 404
        assert number not in [c["number"] for c in client.get("/api/v1/queue", headers=tax).json()]

    def test_no_token_is_401(self, client: TestClient) -> None:
        response = client.get("/api/v1/applications")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"

    def test_offline_only_item_cannot_be_applied_for_online(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        offline = [i for i in client.get("/api/v1/items").json() if not i["online"]]
        assert offline, "the demo catalog has offline-only items"
        response = client.post(
            "/api/v1/applications",
            headers=applicant_headers,
            json={"item_code": offline[0]["code"]},
        )
        assert response.status_code == 403


def decision_text(client: TestClient, headers: dict[str, str], number: str) -> str:
    """The decision document's text, read back from the PDF the API serves."""
    response = client.get(f"/api/v1/applications/{number}/decision.pdf", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    return str(PdfReader(io.BytesIO(response.content)).pages[0].extract_text())


class TestDecisionDocument:
    def test_completed_case_has_a_pdf_with_the_decision_and_a_qr_link(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        for action in ("accept", "start_review", "approve"):
            assert act(client, official_headers, number, action).status_code == 200
        act(client, official_headers, number, "complete", result_note="邮寄送达")
        text = decision_text(client, applicant_headers, number)
        assert "办结通知书" in text
        assert number in text
        assert "邮寄送达" in text
        assert f"/applications/{number}" in text

    def test_denial_states_the_reason_and_the_right_to_appeal(
        self,
        client: TestClient,
        applicant_headers: dict[str, str],
        official_headers: dict[str, str],
    ) -> None:
        number = submitted_application(client, applicant_headers)
        act(client, official_headers, number, "accept")
        act(client, official_headers, number, "start_review")
        act(client, official_headers, number, "deny", reason="经营场所不符合规划用途")
        text = decision_text(client, applicant_headers, number)
        assert "不予批准决定书" in text
        assert "经营场所不符合规划用途" in text
        assert "行政复议" in text
        assert "60日内" in text
        assert "6个月内" in text

    def test_no_document_before_a_decision(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        number = submitted_application(client, applicant_headers)
        response = client.get(
            f"/api/v1/applications/{number}/decision.pdf", headers=applicant_headers
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "no_decision_yet"
