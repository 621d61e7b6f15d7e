"""The notifications API over real HTTP: bulk sends, delivery status, the inbox."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.conftest import sign_in
from tests.notifications.conftest import Deliver, Recorders
from tongban.applications.states import Status
from tongban.identity.models import Account


class TestBulkSend:
    def test_an_administrator_sends_to_usernames_and_bare_numbers(
        self, client: TestClient, reachable: Account, deliver: Deliver, recorders: Recorders
    ) -> None:
        headers = sign_in(client, "admin")
        response = client.post(
            "/api/v1/notifications/bulk",
            headers=headers,
            json={
                "event": "notice",
                "channel": "sms",
                "rows": [
                    {"to": reachable.username, "personalisation": {"text": "明日系统维护"}},
                    {"to": "13600136000", "personalisation": {"name": "王五", "text": "请续期"}},
                ],
            },
        )
        assert response.status_code == 202, response.text
        batch = response.json()["batch"]
        assert response.json()["queued"] == 2
        listed = client.get(f"/api/v1/notifications?batch={batch}", headers=headers).json()
        assert {n["status"] for n in listed} == {"queued"}
        deliver()
        listed = client.get(f"/api/v1/notifications?batch={batch}", headers=headers).json()
        assert {n["status"] for n in listed} == {"delivered"}
        assert {e.address for e in recorders.sms.sent} >= {"13700137000", "13600136000"}
        assert any(e.body == "【通办】通知测试人您好，明日系统维护" for e in recorders.sms.sent)

    def test_a_bad_row_refuses_the_whole_request_and_names_the_row(
        self, client: TestClient, reachable: Account
    ) -> None:
        headers = sign_in(client, "admin")
        response = client.post(
            "/api/v1/notifications/bulk",
            headers=headers,
            json={
                "event": "notice",
                "channel": "email",
                "rows": [
                    {"to": reachable.username, "personalisation": {"text": "好"}},
                    {"to": "not an address", "personalisation": {"name": "x", "text": "y"}},
                ],
            },
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "rows.1.to"
        mine = client.get("/api/v1/notifications?event=notice&limit=1000", headers=headers).json()
        assert reachable.email not in {n["address"] for n in mine}

    def test_a_field_the_template_does_not_take_is_refused(
        self, client: TestClient, reachable: Account
    ) -> None:
        response = client.post(
            "/api/v1/notifications/bulk",
            headers=sign_in(client, "admin"),
            json={
                "event": "notice",
                "channel": "sms",
                "rows": [{"to": reachable.username, "personalisation": {"text": "a", "id": "1"}}],
            },
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "rows.0"

    def test_only_administrators_send_in_bulk(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        body = {"event": "notice", "channel": "sms", "rows": [{"to": "13600136000"}]}
        for headers in (applicant_headers, sign_in(client, "samr_officer")):
            response = client.post("/api/v1/notifications/bulk", headers=headers, json=body)
            assert response.status_code == 403


class TestStatusAndInbox:
    def test_the_recipient_reads_their_own_messages_and_nobody_else_does(
        self, engine: Engine, client: TestClient, reachable: Account, deliver: Deliver
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.ACCEPTED)
        deliver()
        mine = sign_in(client, reachable.username)
        inbox = client.get("/api/v1/me/notifications", headers=mine).json()
        assert [(m["event"], m["reference"], m["status"]) for m in inbox] == [
            ("accepted", number, "delivered")
        ]
        own = client.get(f"/api/v1/notifications/{inbox[0]['id']}", headers=mine)
        assert own.status_code == 200
        other = sign_in(client, "lisi")
        assert (
            client.get(f"/api/v1/notifications/{inbox[0]['id']}", headers=other).status_code == 404
        )
        assert client.get("/api/v1/notifications", headers=mine).status_code == 403

    def test_counts_per_event_for_administrators(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        counts = client.get("/api/v1/notifications/counts", headers=sign_in(client, "admin")).json()
        events = {row["event"] for row in counts}
        assert {"accepted", "approved", "result_ready"} <= events
        assert all(row["count"] > 0 for row in counts)

    def test_templates_are_listed(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        listed = client.get("/api/v1/notification-templates", headers=applicant_headers).json()
        accepted = next(t for t in listed if t["event"] == "accepted")
        assert accepted["channels"] == ["sms", "email", "in_app"]
        assert "number" in accepted["fields"]
