"""Good/bad evaluation over real HTTP: rating once, the five levels and the channel's
indicators, a bad rating opening a rectification with the case's trace, reply and call-back,
escalation when overdue, and the public figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import application_in, take
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.notifications.conftest import Deliver, Recorders
from tongban.applications import repository as applications_repository
from tongban.applications import service as applications_service
from tongban.applications.models import CoveredItem
from tongban.applications.states import Action, Status
from tongban.bundles.models import BundleCase
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.evaluations import service
from tongban.evaluations.models import Rectification
from tongban.identity.models import Account
from tongban.kit.clock import local_today, utcnow
from tongban.kit.workdays import get_calendar
from tongban.notifications import service as notifications_service

ONLINE = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")


def all_at(level: int) -> dict[str, int]:
    return dict.fromkeys(ONLINE, level)


def rate(client: TestClient, headers: dict[str, str], number: str, level: int, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/applications/{number}/evaluation",
        headers=headers,
        json={"indicators": all_at(level), "comment": "太慢了", **extra},
    )


class TestRating:
    def test_a_finished_case_is_rated_once(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        headers = sign_in(client, reachable.username)
        before = client.get(f"/api/v1/applications/{number}/evaluation", headers=headers).json()
        assert before["can_rate"]
        assert before["channel"] == "online"
        assert before["indicators"] == list(ONLINE)
        first = rate(client, headers, number, 5)
        assert first.status_code == 201, first.text
        assert first.json()["rectification_due_on"] is None
        again = rate(client, headers, number, 1)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_rated"

    def test_someone_elses_case_cannot_be_rated(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        assert rate(client, sign_in(client, "lisi"), number, 1).status_code == 404
        assert rate(client, sign_in(client, "samr_officer"), number, 1).status_code == 403

    def test_an_unfinished_case_cannot_be_rated_yet(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.IN_REVIEW)
        response = rate(client, sign_in(client, reachable.username), number, 4)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "not_rateable"

    @pytest.mark.parametrize(
        ("indicators", "field"),
        [
            ({**all_at(4), "attitude": 4}, "indicators.attitude"),
            ({k: 4 for k in ONLINE if k != "usability"}, "indicators.usability"),
            ({**all_at(4), "overall": 6}, "indicators.overall"),
        ],
    )
    def test_indicators_must_be_the_channels_on_the_five_levels(
        self,
        engine: Engine,
        client: TestClient,
        reachable: Account,
        indicators: dict[str, int],
        field: str,
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        response = client.post(
            f"/api/v1/applications/{number}/evaluation",
            headers=sign_in(client, reachable.username),
            json={"indicators": indicators},
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field


class TestRectification:
    def test_a_bad_rating_opens_a_rectification_with_the_trace_due_in_15_working_days(
        self,
        engine: Engine,
        client: TestClient,
        reachable: Account,
        deliver: Deliver,
        recorders: Recorders,
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        applicant = sign_in(client, reachable.username)
        rated = rate(client, applicant, number, 2)
        assert rated.status_code == 201
        due = get_calendar().add_workdays(local_today(), 15)
        assert rated.json()["rectification_due_on"] == due.isoformat()

        official = sign_in(client, "samr_officer")
        cases = client.get("/api/v1/rectifications", headers=official).json()
        [case] = [c for c in cases if c["number"] == number]
        assert case["status"] == "open"
        steps = case["trace"]["steps"]
        assert [s["to"] for s in steps] == [
            "submitted",
            "accepted",
            "in_review",
            "approved",
            "completed",
        ]
        assert {s["official"] for s in steps[1:]} == {"王芳（市场监管）"}
        assert case["trace"]["officials"] == ["王芳（市场监管）"]
        # Another department's official does not see it.
        other = sign_in(client, "tax_officer")
        assert client.get(f"/api/v1/rectifications/{case['id']}", headers=other).status_code == 404

        replied = client.post(
            f"/api/v1/rectifications/{case['id']}/reply",
            headers=official,
            json={"reply": "已约谈经办人，并优化审批流程。"},
        )
        assert replied.status_code == 200, replied.text
        assert replied.json()["status"] == "replied"
        mine = client.get(f"/api/v1/applications/{number}/evaluation", headers=applicant).json()
        assert mine["rectification"]["reply"] == "已约谈经办人，并优化审批流程。"
        deliver()
        assert any(e.reference == number and "已约谈经办人" in e.body for e in recorders.email.sent)

        called = client.post(
            f"/api/v1/rectifications/{case['id']}/callback",
            headers=official,
            json={"satisfied": True, "note": "申请人表示认可"},
        )
        assert called.json()["status"] == "closed"
        assert called.json()["callback_satisfied"] is True
        twice = client.post(
            f"/api/v1/rectifications/{case['id']}/callback",
            headers=official,
            json={"satisfied": True},
        )
        assert twice.status_code == 409

    def test_the_trace_names_the_step_that_passed_the_time_limit(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.APPROVED)
        with unit_of_work(engine) as session:
            application = applications_service.get(
                session, _account(session, "samr_officer"), number
            )
            # As if the case had been approved a week ago and the promise had run out two days
            # ago, before the result was issued.
            application.promised_due_on = local_today() - timedelta(days=2)
            for change in application.history:
                change.at = utcnow() - timedelta(days=7)
        with unit_of_work(engine) as session:
            official = _account(session, "samr_approver")
            take(session, official, number, Action.COMPLETE)
        rate(client, sign_in(client, reachable.username), number, 1)
        cases = client.get("/api/v1/rectifications", headers=sign_in(client, "samr_officer"))
        [case] = [c for c in cases.json() if c["number"] == number]
        trace = case["trace"]
        late = trace["steps"][trace["late_step"]]
        assert (late["to"], late["official"], late["late"]) == (
            "completed",
            "林涛（市场监管审批）",
            True,
        )
        assert sum(s["late"] for s in trace["steps"]) == 1

    def test_a_good_rating_opens_none(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.DENIED)
        assert (
            rate(client, sign_in(client, reachable.username), number, 3).json()[
                "rectification_due_on"
            ]
            is None
        )

    def test_the_reply_names_every_item_a_department_application_covers(
        self,
        engine: Engine,
        client: TestClient,
        reachable: Account,
        deliver: Deliver,
        recorders: Recorders,
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        with unit_of_work(engine) as session:
            # A bundle's market regulator application: the business and its food licence.
            application = applications_repository.by_number(session, number)
            assert application is not None
            food = catalog_service.get_item(session, OPERATOR, "SAMR-0003")
            # Only a bundle case's department application covers items.
            bundle_case = BundleCase(
                code="OPEN-SHOP",
                applicant_id=application.applicant_id,
                answers={},
                numbers={"business": number},
                created_at=utcnow(),
            )
            session.add(bundle_case)
            session.flush()
            application.bundle_case_id = bundle_case.id
            session.add(
                CoveredItem(
                    application_id=application.id,
                    item_id=food.id,
                    item_version=food.version,
                    position=1,
                )
            )
        applicant = sign_in(client, reachable.username)
        assert rate(client, applicant, number, 2).status_code == 201
        official = sign_in(client, "samr_officer")
        [case] = [
            c
            for c in client.get("/api/v1/rectifications", headers=official).json()
            if c["number"] == number
        ]
        replied = client.post(
            f"/api/v1/rectifications/{case['id']}/reply",
            headers=official,
            json={"reply": "已整改。"},
        )
        assert replied.status_code == 200, replied.text
        deliver()
        [email] = [e for e in recorders.email.sent if e.reference == number and "已整改" in e.body]
        assert "个体工商户设立登记、食品经营许可" in email.body

    def test_an_overdue_rectification_is_escalated_once_to_the_approvers(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        rate(client, sign_in(client, reachable.username), number, 1)
        with unit_of_work(engine) as session:
            [case] = [
                r
                for r in service.department_rectifications(
                    session, _account(session, "samr_officer")
                )
                if r.number == number
            ]
            row = session.get(Rectification, case.id)
            assert row is not None
            row.due_on = local_today() - timedelta(days=1)
        admin = sign_in(client, "admin")
        first = client.post("/api/v1/rectifications/escalations", headers=admin).json()
        assert first["escalated"] >= 1
        again = client.post("/api/v1/rectifications/escalations", headers=admin).json()
        assert again["escalated"] == 0
        with unit_of_work(engine) as session:
            told = notifications_service.list_recent(
                session, OPERATOR, event="rectification_overdue", reference=number
            )
            recipients = {_username(session, n.recipient_id) for n in told}
        assert {"samr_approver", "samr_officer"} <= recipients
        assert "samr_clerk" not in recipients
        applicant = sign_in(client, reachable.username)
        assert (
            client.post("/api/v1/rectifications/escalations", headers=applicant).status_code == 403
        )


class TestFigures:
    def test_ratings_show_per_department_and_item_to_anyone(
        self, engine: Engine, client: TestClient, reachable: Account
    ) -> None:
        before = client.get("/api/v1/satisfaction").json()
        samr_before = next((d for d in before["departments"] if d["code"] == "SAMR"), None)
        count_before = samr_before["count"] if samr_before else 0
        number = application_in(engine, applicant=reachable.username, status=Status.COMPLETED)
        rate(client, sign_in(client, reachable.username), number, 4)
        after = client.get("/api/v1/satisfaction").json()
        samr = next(d for d in after["departments"] if d["code"] == "SAMR")
        assert samr["count"] == count_before + 1
        assert sum(samr["by_level"].values()) == samr["count"]
        item = next(i for i in after["items"] if i["code"] == "SAMR-0001")
        assert item["count"] >= 1
        assert 0 <= float(item["satisfaction_rate"]) <= 100


def _account(session, username: str) -> Account:  # type: ignore[no-untyped-def]
    from tongban.identity import service as identity_service

    account = identity_service.get_by_username(session, username)
    assert account is not None
    return account


def _username(session, account_id: int | None) -> str:  # type: ignore[no-untyped-def]
    account = session.get(Account, account_id)
    assert account is not None
    return account.username
