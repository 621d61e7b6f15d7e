"""Department systems report back by signed, idempotent callbacks."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.audit import helpers as audit_helpers
from tests.connectors.conftest import SECRET, SystemFactory, api_connector, department_of, submit
from tongban.applications import service as applications_service
from tongban.applications.states import Status
from tongban.connectors import signing
from tongban.connectors.models import DepartmentSystem
from tongban.db.session import unit_of_work
from tongban.identity.models import Account


def post_callback(
    client: TestClient,
    system_code: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
    secret: str = SECRET,
    now: float | None = None,
) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        signing.SYSTEM_HEADER: system_code,
        signing.IDEMPOTENCY_HEADER: key or uuid.uuid4().hex,
        **signing.signed_headers(secret, raw, now=now),
    }
    return client.post("/api/v1/connectors/callbacks", content=raw, headers=headers)


def system_code(engine: Engine, system_id: int) -> str:
    with unit_of_work(engine) as session:
        system = session.get(DepartmentSystem, system_id)
        assert system is not None
        return system.code


class TestReportBack:
    def test_a_decision_is_applied_once_however_often_it_is_sent(
        self,
        engine: Engine,
        client: TestClient,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        code = system_code(engine, system)
        number = submit(engine, applicant, department_of(engine, system))
        key = uuid.uuid4().hex
        first = post_callback(client, code, {"application": number, "action": "accept"}, key=key)
        assert first.status_code == 200, first.text
        assert first.json() == {"application": number, "status": "accepted", "duplicate": False}
        again = post_callback(client, code, {"application": number, "action": "accept"}, key=key)
        assert again.json() == {"application": number, "status": "accepted", "duplicate": True}
        with unit_of_work(engine) as session:
            application = applications_service.get(session, applicant, number)
            accepted = [h for h in application.history if h.to_status is Status.ACCEPTED]
            assert len(accepted) == 1
            assert accepted[0].actor_name == "测试系统"
            actions = [
                e.action
                for e in audit_helpers.entries_for(
                    session, target_type="application", target_id=number
                )
            ]
        assert actions.count("application.accept") == 1

    def test_an_illegal_step_is_a_conflict(
        self,
        engine: Engine,
        client: TestClient,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        number = submit(engine, applicant, department_of(engine, system))
        response = post_callback(
            client, system_code(engine, system), {"application": number, "action": "approve"}
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invalid_transition"

    def test_bad_signature_unknown_system_and_old_timestamp_are_refused(
        self,
        engine: Engine,
        client: TestClient,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        import time

        system = register_system([api_connector(department_service)])
        code = system_code(engine, system)
        number = submit(engine, applicant, department_of(engine, system))
        body = {"application": number, "action": "accept"}
        assert post_callback(client, code, body, secret="w" * 40).status_code == 401
        assert post_callback(client, "SYS-NOPE", body).status_code == 401
        stale = time.time() - 3600
        assert post_callback(client, code, body, now=stale).status_code == 401
        with unit_of_work(engine) as session:
            assert applications_service.get(session, applicant, number).status is (Status.SUBMITTED)

    def test_a_system_cannot_act_on_another_departments_case(
        self,
        engine: Engine,
        client: TestClient,
        register_system: SystemFactory,
        department_service: str,
        applicant_headers: dict[str, str],
    ) -> None:
        from tests.applications.helpers import submitted_application

        system = register_system([api_connector(department_service)])
        samr_case = submitted_application(client, applicant_headers)
        response = post_callback(
            client, system_code(engine, system), {"application": samr_case, "action": "accept"}
        )
        assert response.status_code == 404
