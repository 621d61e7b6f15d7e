"""Tracking without an account: a one-time code sent through the notifications, then the
progress by number + code; nothing tells whether a number exists."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import application_in
from tests.audit import helpers as audit_helpers
from tests.fixtures.principals import OPERATOR
from tests.notifications.conftest import Deliver, Recorders, make_applicant
from tongban.applications.states import Status
from tongban.db.session import unit_of_work
from tongban.kit import ids

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def code_sent(recorders: Recorders, number: str, channel: str = "sms") -> str:
    sender = recorders.sms if channel == "sms" else recorders.email
    # The case's other messages (accepted...) go out in the same rounds: take the code's.
    codes = [e for e in sender.sent if e.reference == number and "验证码" in e.body]
    envelope = codes[-1]
    found = CODE.search(envelope.body.replace(number, ""))
    assert found, envelope.body
    return found.group(1)


def unknown_number() -> str:
    body = "TB20260101999999"
    return body + ids.check_characters(body)


class TestTracking:
    def test_number_and_code_show_the_progress_without_form_values(
        self,
        engine: Engine,
        client: TestClient,
        deliver: Deliver,
        recorders: Recorders,
    ) -> None:
        applicant = make_applicant(engine)
        number = application_in(engine, applicant=applicant.username, status=Status.IN_REVIEW)
        response = client.post("/api/v1/tracking/codes", json={"number": number})
        assert response.status_code == 202
        deliver()
        code = code_sent(recorders, number)
        progress = client.post("/api/v1/tracking", json={"number": number, "code": code})
        assert progress.status_code == 200, progress.text
        body = progress.json()
        assert body["status"] == "in_review"
        assert [s["status"] for s in body["steps"]] == [
            "draft",
            "submitted",
            "accepted",
            "in_review",
        ]
        assert "330102199003071230" not in progress.text
        assert "form" not in body

    def test_a_code_is_good_once(
        self, engine: Engine, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        applicant = make_applicant(engine)
        number = application_in(engine, applicant=applicant.username, status=Status.SUBMITTED)
        client.post("/api/v1/tracking/codes", json={"number": number, "channel": "email"})
        deliver()
        code = code_sent(recorders, number, "email")
        assert client.post("/api/v1/tracking", json={"number": number, "code": code}).is_success
        again = client.post("/api/v1/tracking", json={"number": number, "code": code})
        assert again.status_code == 422
        assert again.json()["error"]["code"] == "tracking_code_invalid"

    def test_five_wrong_codes_spend_it_and_each_try_is_recorded(
        self, engine: Engine, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        applicant = make_applicant(engine)
        number = application_in(engine, applicant=applicant.username, status=Status.SUBMITTED)
        client.post("/api/v1/tracking/codes", json={"number": number})
        deliver()
        code = code_sent(recorders, number)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            response = client.post("/api/v1/tracking", json={"number": number, "code": wrong})
            assert response.status_code == 422
        right = client.post("/api/v1/tracking", json={"number": number, "code": code})
        assert right.status_code == 422
        with unit_of_work(engine) as session:
            actions = [
                e.action
                for e in audit_helpers.entries_for(
                    session, target_type="application", target_id=number
                )
            ]
        assert actions.count("tracking.code_refused") == 5

    def test_an_unknown_number_is_answered_like_a_known_one(
        self, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        number = unknown_number()
        response = client.post("/api/v1/tracking/codes", json={"number": number})
        assert response.status_code == 202
        deliver()
        assert not [e for e in recorders.sms.sent if e.reference == number]
        refused = client.post("/api/v1/tracking", json={"number": number, "code": "123456"})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "tracking_code_invalid"

    def test_a_mistyped_number_is_refused_at_once(self, client: TestClient) -> None:
        response = client.post("/api/v1/tracking/codes", json={"number": "TB2026XYZ"})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "number"

    def test_the_code_does_not_stay_in_stored_messages(
        self, engine: Engine, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        from tongban.notifications import service as notifications_service

        applicant = make_applicant(engine)
        number = application_in(engine, applicant=applicant.username, status=Status.SUBMITTED)
        client.post("/api/v1/tracking/codes", json={"number": number})
        deliver()
        code = code_sent(recorders, number)
        with unit_of_work(engine) as session:
            [stored] = notifications_service.list_recent(
                session, OPERATOR, event="tracking_code", reference=number
            )
            assert code not in stored.body
            assert "******" in stored.body
