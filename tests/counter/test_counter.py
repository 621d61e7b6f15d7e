"""The single window over real HTTP: a counter clerk looks a walk-in up by ID number, fills the
form for them, checks the materials, and issues a receipt (the case goes to the department) or a
one-time notice (the draft stays the applicant's); every step audited; PDFs read back."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.applications.factories import form_values
from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.counter.factories import walk_in
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work

# The routes returning labelled values that these tests try as an adversary (checked by
# tests/architecture/test_labelled_reads_are_tried.py).
ROUTES_TRIED = {
    ("POST", "/api/v1/counter/cases"),
    ("PUT", "/api/v1/counter/cases/{number}/form"),
}

ITEM = "SAMR-0001"


def item_form(engine: Engine) -> tuple[dict[str, object], list[str]]:
    with unit_of_work(engine) as session:
        item = catalog_service.get_item(session, OPERATOR, ITEM)
        specs = applications_service.field_specs(item)
        return form_values(specs), [r.code for r in item.materials if r.required]


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


class TestSingleWindow:
    def test_a_complete_case_gets_a_receipt_and_goes_to_the_department(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = walk_in(engine)
        clerk = sign_in(client, "counter_clerk")
        found = client.get(f"/api/v1/counter/people/{person.id_number}", headers=clerk)
        assert found.json() == {"display_name": "窗口申请人", "phone_last4": "5000"}

        opened = client.post(
            "/api/v1/counter/cases",
            headers=clerk,
            json={"id_number": person.id_number, "item_code": ITEM},
        )
        assert opened.status_code == 201, opened.text
        number = opened.json()["number"]
        values, materials = item_form(engine)
        saved = client.put(
            f"/api/v1/counter/cases/{number}/form", headers=clerk, json={"form": values}
        )
        assert saved.status_code == 200, saved.text
        refused = client.post(f"/api/v1/counter/cases/{number}/receipt", headers=clerk)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "still_missing"
        for code in materials:
            uploaded = client.post(
                f"/api/v1/counter/cases/{number}/materials",
                headers=clerk,
                data={"requirement_code": code},
                files={"file": ("scan.pdf", pdf_bytes(), "application/pdf")},
            )
            assert uploaded.status_code == 201, uploaded.text
        check = client.get(f"/api/v1/counter/cases/{number}/check", headers=clerk).json()
        assert check == {"fields_zh": [], "fields_en": [], "materials": []}

        receipt = client.post(f"/api/v1/counter/cases/{number}/receipt", headers=clerk)
        assert receipt.status_code == 201, receipt.text
        text = pdf_text(client.get(receipt.json()["pdf"], headers=clerk).content)
        assert "受理回执" in text
        assert number in text
        assert "窗口申请人" in text
        assert "/track?number=" in text

        # Routed to the back office: in SAMR's queue, accepted, with the time limit running.
        queue = client.get("/api/v1/queue", headers=sign_in(client, "samr_officer")).json()
        [case] = [c for c in queue if c["number"] == number]
        assert case["status"] == "accepted"
        assert case["time_limit"] is not None
        # The applicant sees the same case online as their own.
        applicant = sign_in(client, person.username)
        mine = client.get("/api/v1/applications", headers=applicant)
        assert number in [a["number"] for a in mine.json()]
        # After the counter visit the applicant rates the window on the counter indicators.
        rating = client.get(f"/api/v1/applications/{number}/evaluation", headers=applicant).json()
        assert (rating["can_rate"], rating["channel"]) == (True, "counter")
        assert rating["indicators"] == ["overall", "efficiency", "professional", "attitude"]
        with unit_of_work(engine) as session:
            actions = [
                e.action
                for e in audit_helpers.entries_for(
                    session, target_type="application", target_id=number
                )
            ]
        assert {
            "application.created",
            "application.form_saved",
            "application.material_added",
            "application.submit",
            "application.accept",
            "counter.receipt_issued",
        } <= set(actions)

    def test_a_notice_lists_everything_missing_and_the_applicant_can_continue_online(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = walk_in(engine)
        clerk = sign_in(client, "counter_clerk")
        number = client.post(
            "/api/v1/counter/cases",
            headers=clerk,
            json={"id_number": person.id_number, "item_code": ITEM},
        ).json()["number"]
        notice = client.post(f"/api/v1/counter/cases/{number}/notice", headers=clerk)
        assert notice.status_code == 201, notice.text
        _, materials = item_form(engine)
        missing = notice.json()["missing"]
        assert {m["code"] for m in missing if m["kind"] == "material"} == set(materials)
        assert any(m["kind"] == "field" for m in missing)
        text = pdf_text(client.get(notice.json()["pdf"], headers=clerk).content)
        assert "一次性告知书" in text
        assert number in text
        applicant = sign_in(client, person.username)
        own = client.get(f"/api/v1/applications/{number}", headers=applicant)
        assert own.json()["status"] == "draft"
        # The applicant may open their own document too.
        assert client.get(notice.json()["pdf"], headers=applicant).status_code == 200

    def test_only_counter_clerks_work_the_window(self, engine: Engine, client: TestClient) -> None:
        person = walk_in(engine)
        for username in ("samr_officer", "zhangsan"):
            headers = sign_in(client, username)
            response = client.get(f"/api/v1/counter/people/{person.id_number}", headers=headers)
            assert response.status_code == 403

    def test_an_unknown_person_is_reported_at_the_id_field(self, client: TestClient) -> None:
        response = client.get(
            "/api/v1/counter/people/110101199001011237",
            headers=sign_in(client, "counter_clerk"),
        )
        assert response.status_code in (404, 422)
        assert response.json()["error"]["field"] == "id_number"

    def test_the_clerk_reads_the_form_by_their_clearance(
        self, engine: Engine, client: TestClient
    ) -> None:
        """Cleared for important identity data only: a health field would be masked; the ID
        number is shown whole."""
        person = walk_in(engine)
        clerk = sign_in(client, "counter_clerk")
        opened = client.post(
            "/api/v1/counter/cases",
            headers=clerk,
            json={"id_number": person.id_number, "item_code": ITEM},
        ).json()
        values, _ = item_form(engine)
        saved = client.put(
            f"/api/v1/counter/cases/{opened['number']}/form", headers=clerk, json={"form": values}
        ).json()
        id_fields = [k for k, v in values.items() if v == "330102199003071230"]
        assert id_fields
        assert all(saved["form_data"][k] == "330102199003071230" for k in id_fields)

    def test_a_counter_clerk_cannot_touch_an_online_case(
        self, engine: Engine, client: TestClient
    ) -> None:
        from tests.applications.factories import application_in
        from tongban.applications.states import Status

        person = walk_in(engine)
        number = application_in(engine, applicant=person.username, status=Status.SUBMITTED)
        clerk = sign_in(client, "counter_clerk")
        assert client.get(f"/api/v1/applications/{number}", headers=clerk).status_code == 404
        response = client.post(
            f"/api/v1/applications/{number}/actions", headers=clerk, json={"action": "accept"}
        )
        assert response.status_code == 404
