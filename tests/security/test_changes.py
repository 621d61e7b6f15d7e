"""Clearances and labels change only under dual control: one security administrator proposes,
another approves; nobody decides their own proposal or touches their own clearance; every step
is audited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import complete_draft
from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import new_official
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind
from tongban.security import service as security_service

CHANGES = "/api/v1/security/changes"


def propose(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(CHANGES, headers=headers, json={"reason": "岗位调整", **body})


@pytest.fixture
def admins(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    return sign_in(client, "secadmin_a"), sign_in(client, "secadmin_b")


class TestDualControl:
    def test_a_clearance_applies_only_after_another_administrator_approves(
        self, client: TestClient, engine: Engine, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, b = admins
        official = new_official(engine, department="TAX")
        proposed = propose(
            client, a, kind="clearance", target=official.username, value="important:tax"
        )
        assert proposed.status_code == 201, proposed.text
        change = proposed.json()
        assert change["status"] == "pending"
        assert change["previous"] is None
        shown = client.get(f"/api/v1/security/clearances/{official.username}", headers=a)
        assert shown.json()["clearance"] == "public", "nothing applies while pending"

        own = client.post(f"{CHANGES}/{change['id']}/approve", headers=a, json={})
        assert own.status_code == 403
        assert own.json()["error"]["code"] == "dual_control_refused"

        approved = client.post(f"{CHANGES}/{change['id']}/approve", headers=b, json={})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "applied"
        shown = client.get(f"/api/v1/security/clearances/{official.username}", headers=b)
        assert shown.json()["clearance"] == "important:tax"

        again = client.post(f"{CHANGES}/{change['id']}/reject", headers=b, json={})
        assert again.status_code == 409

        with unit_of_work(engine) as session:
            entries = audit_helpers.entries_for(
                session, target_type="security_change", target_id=str(change["id"])
            )
            assert [e.action for e in entries] == [
                "security.change_proposed",
                "security.change_approved",
            ]
            assert [e.actor for e in entries] == ["secadmin_a", "secadmin_b"]

    def test_a_rejected_change_changes_nothing(
        self, client: TestClient, engine: Engine, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, b = admins
        official = new_official(engine, department="TAX")
        change = propose(client, a, kind="clearance", target=official.username, value="core:tax")
        rejected = client.post(
            f"{CHANGES}/{change.json()['id']}/reject", headers=b, json={"reason": "无需核心级"}
        )
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["decision_reason"] == "无需核心级"
        shown = client.get(f"/api/v1/security/clearances/{official.username}", headers=a)
        assert shown.json()["clearance"] == "public"

    def test_nobody_proposes_their_own_clearance(
        self, client: TestClient, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, _ = admins
        response = propose(client, a, kind="clearance", target="secadmin_a", value="core")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "dual_control_refused"

    def test_nobody_approves_a_change_to_their_own_clearance(
        self, client: TestClient, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, b = admins
        change = propose(client, a, kind="clearance", target="secadmin_b", value="important")
        assert change.status_code == 201
        response = client.post(f"{CHANGES}/{change.json()['id']}/approve", headers=b, json={})
        assert response.status_code == 403
        client.post(f"{CHANGES}/{change.json()['id']}/reject", headers=a, json={})

    def test_a_second_proposal_for_the_same_target_waits_for_the_first(
        self, client: TestClient, engine: Engine, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, b = admins
        official = new_official(engine, department="TAX")
        first = propose(client, a, kind="clearance", target=official.username, value="internal")
        assert first.status_code == 201
        second = propose(client, b, kind="clearance", target=official.username, value="core")
        assert second.status_code == 409

    @pytest.mark.parametrize("username", ["samr_officer", "admin", "zhangsan"])
    def test_only_security_administrators_propose_or_decide(
        self, client: TestClient, username: str
    ) -> None:
        headers = sign_in(client, username)
        response = propose(client, headers, kind="clearance", target="lisi", value="core")
        assert response.status_code == 403
        assert client.get(CHANGES, headers=headers).status_code == 403

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"kind": "clearance", "target": "nobody_here", "value": "internal"}, 404),
            ({"kind": "clearance", "target": "lisi", "value": "secret"}, 422),
            ({"kind": "clearance", "target": "lisi", "value": "internal:gossip"}, 422),
            ({"kind": "label", "target": "HEALTH-0003.no_such", "value": "internal"}, 404),
            ({"kind": "label", "target": "NOPE-0001.name", "value": "internal"}, 404),
            ({"kind": "clearance", "target": "lisi", "value": "internal", "reason": " "}, 422),
        ],
    )
    def test_bad_proposals_are_refused_with_a_reason(
        self,
        client: TestClient,
        admins: tuple[dict[str, str], dict[str, str]],
        body: dict[str, str],
        code: int,
    ) -> None:
        response = propose(client, admins[0], **body)
        assert response.status_code == code, response.text
        assert response.json()["error"]["message"]


class TestLabelChanges:
    def test_a_raised_label_masks_the_field_for_readers_below_it(
        self, client: TestClient, engine: Engine, admins: tuple[dict[str, str], dict[str, str]]
    ) -> None:
        a, b = admins
        # TAX-0001's fields are read by the demo tax official (important:identity,tax,finance);
        # a field raised to core is beyond that clearance.
        with unit_of_work(engine) as session:
            applicant = identity_service.create_account(
                session,
                OPERATOR,
                username="label_case_owner",
                password="demo-password",
                display_name="周测试",
                kind=AccountKind.APPLICANT,
            )
            number = complete_draft(session, applicant, "TAX-0001")
            applications_service.act(session, applicant, number, Action.SUBMIT)
        officer = sign_in(client, "tax_officer")
        before = client.get(f"/api/v1/applications/{number}", headers=officer).json()
        field = next(k for k, v in before["form_data"].items() if v not in ("***", None))
        change = propose(client, a, kind="label", target=f"TAX-0001.{field}", value="core:tax")
        assert change.status_code == 201, change.text
        assert change.json()["previous"]
        client.post(f"{CHANGES}/{change.json()['id']}/approve", headers=b, json={})
        after = client.get(f"/api/v1/applications/{number}", headers=officer).json()
        assert after["form_data"][field] == "***"
        # The applicant still reads their own data whole.
        own = client.get(
            f"/api/v1/applications/{number}", headers=sign_in(client, "label_case_owner")
        ).json()
        assert own["form_data"][field] == before["form_data"][field]


class TestTheOperatorBootstraps:
    def test_the_cli_operator_sets_a_clearance_and_it_is_audited(self, engine: Engine) -> None:
        official = new_official(engine, department="PSB")
        with unit_of_work(engine) as session:
            value = security_service.set_clearance(
                session, OPERATOR, username=official.username, clearance="important:household"
            )
            assert value == "important:household"
            entries = audit_helpers.entries_for(
                session, target_type="account", target_id=official.username
            )
            assert entries[-1].action == "security.clearance_set"
            assert entries[-1].details["clearance"] == "important:household"

    def test_a_signed_in_administrator_cannot_bypass_dual_control(self, engine: Engine) -> None:
        with unit_of_work(engine) as session:
            admin = identity_service.get_by_username(session, "secadmin_a")
            with pytest.raises(Exception, match="proposal and another"):
                security_service.set_clearance(
                    session, admin, username="samr_clerk", clearance="core"
                )
