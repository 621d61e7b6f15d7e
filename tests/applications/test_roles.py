"""Officials act by role within their own department: clerks take cases in, reviewers review,
approvers decide. Proven through the API and the pages: a role cannot take another role's action,
and an official never sees another department's queue or applications."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import (
    REASON,
    RESULT_NOTE,
    application_in,
    create_applicant,
)
from tests.conftest import PASSWORD, sign_in, totp_now
from tests.fixtures.forms import csrf, submit
from tests.identity.factories import api_sign_in, new_official
from tongban.applications.policy import ROLES_FOR
from tongban.applications.states import TRANSITIONS, Action, Role, Status
from tongban.identity.models import OfficialRole

OFFICIAL_ACTIONS = [a for a, t in TRANSITIONS.items() if t.by is Role.OFFICIAL]
# Demo officials of SAMR with one role each (tongban/identity/data/demo_accounts.yaml).
SINGLE_ROLE = {
    OfficialRole.CLERK: "samr_clerk",
    OfficialRole.REVIEWER: "samr_reviewer",
    OfficialRole.APPROVER: "samr_approver",
}
ROLE_WORDS = {
    OfficialRole.CLERK: "clerk",
    OfficialRole.REVIEWER: "reviewer",
    OfficialRole.APPROVER: "approver",
    OfficialRole.COUNTER_CLERK: "counter clerk",
}
OTHER_DEPARTMENTS = [
    "psb_officer",
    "mca_officer",
    "hrss_officer",
    "housing_officer",
    "tax_officer",
    "health_officer",
]
# Department roles; the counter clerk acts on the cases filed at the single window only
# (tests/counter).
CASES = [(role, action) for role in SINGLE_ROLE for action in OFFICIAL_ACTIONS]
# Roles that act on cases (a supervisor watches figures across departments and acts on none).
# Roles that act on no case: supervision of statistics, answers to data-use objections.
CASE_ROLES = [r for r in OfficialRole if r not in (OfficialRole.SUPERVISOR, OfficialRole.DPO)]


def page_client(app: FastAPI, username: str) -> TestClient:
    """A browser-like client signed in at the pages: password, then the authenticator code."""
    client = TestClient(app, follow_redirects=False)
    response = submit(client, "/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/login/code")
    page = client.get(response.headers["location"])
    code = totp_now(app.state.session_factory, username)
    response = client.post(
        "/login/code", data={"csrf": csrf(page.text), "code": code, "next": "/queue"}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/queue"), response.text
    return client


def source_of(action: Action) -> Status:
    """A state the action can be taken from."""
    return sorted(TRANSITIONS[action].sources)[0]


def act_body(action: Action) -> dict[str, str]:
    body = {"action": action.value}
    if TRANSITIONS[action].reason_required:
        body["reason"] = REASON
    if action is Action.COMPLETE:
        body["result_note"] = RESULT_NOTE
    return body


class TestRolesForActions:
    def test_every_official_action_names_the_roles_that_may_take_it(self) -> None:
        assert set(ROLES_FOR) == set(OFFICIAL_ACTIONS)
        assert all(ROLES_FOR[a] for a in OFFICIAL_ACTIONS)

    def test_every_case_role_has_something_to_do(self) -> None:
        assert set().union(*ROLES_FOR.values()) == set(CASE_ROLES)


class TestActByRoleOverTheApi:
    @pytest.mark.parametrize(
        ("role", "action"), CASES, ids=[f"{r.value}-{a.value}" for r, a in CASES]
    )
    def test_a_role_takes_its_own_actions_only(
        self,
        client: TestClient,
        engine: Engine,
        official_headers: dict[str, str],
        role: OfficialRole,
        action: Action,
    ) -> None:
        owner = create_applicant(engine)
        number = application_in(engine, applicant=owner, status=source_of(action))
        headers = sign_in(client, SINGLE_ROLE[role]) | {"Accept-Language": "en"}

        response = client.post(
            f"/api/v1/applications/{number}/actions", headers=headers, json=act_body(action)
        )

        if role in ROLES_FOR[action]:
            assert response.status_code == 200, response.text
            assert response.json()["status"] == TRANSITIONS[action].target.value
        else:
            assert response.status_code == 403, response.text
            error = response.json()["error"]
            assert error["code"] == "role_required"
            needed = [ROLE_WORDS[r] for r in ROLES_FOR[action]]
            assert all(word in error["message"] for word in needed), error["message"]
            assert action.value in error["message"]
            still = client.get(f"/api/v1/applications/{number}", headers=official_headers)
            assert still.json()["status"] == source_of(action).value

    def test_the_refusal_is_in_chinese_for_a_chinese_reader(
        self, client: TestClient, engine: Engine
    ) -> None:
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.ACCEPT)
        )
        headers = sign_in(client, "samr_reviewer") | {"Accept-Language": "zh-CN"}
        response = client.post(
            f"/api/v1/applications/{number}/actions", headers=headers, json={"action": "accept"}
        )
        assert response.status_code == 403
        assert "受理员" in response.json()["error"]["message"]

    def test_an_official_without_roles_sees_the_queue_but_cannot_act(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine, roles=())
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.ACCEPT)
        )
        headers = api_sign_in(client, official)
        queue = client.get("/api/v1/queue", headers=headers).json()
        assert number in [c["number"] for c in queue]
        response = client.post(
            f"/api/v1/applications/{number}/actions", headers=headers, json={"action": "accept"}
        )
        assert response.status_code == 403


class TestActByRoleOnThePages:
    def test_the_case_page_offers_only_the_actions_of_ones_roles(
        self, app: FastAPI, engine: Engine
    ) -> None:
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.ACCEPT)
        )
        for username, shown in (
            ("samr_clerk", True),
            ("samr_reviewer", False),
            ("samr_officer", True),
        ):
            page = page_client(app, username).get(f"/queue/{number}")
            assert page.status_code == 200
            assert ('value="accept"' in page.text) is shown, username

    def test_a_forged_form_for_another_roles_action_is_refused_with_a_message(
        self, app: FastAPI, engine: Engine
    ) -> None:
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.START_REVIEW)
        )
        client = page_client(app, "samr_clerk")
        client.cookies.set("tongban_lang", "en")
        page = client.get(f"/queue/{number}")

        response = client.post(
            f"/queue/{number}/act", data={"csrf": csrf(page.text), "action": "start_review"}
        )

        assert response.status_code == 403
        assert "it needs the role reviewer" in response.text


class TestDepartmentScope:
    @pytest.mark.parametrize("username", OTHER_DEPARTMENTS)
    def test_another_departments_official_sees_neither_queue_entry_nor_case_over_the_api(
        self, client: TestClient, engine: Engine, username: str
    ) -> None:
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.ACCEPT)
        )
        headers = sign_in(client, username)

        queue = client.get("/api/v1/queue", headers=headers).json()
        assert number not in [c["number"] for c in queue]
        assert all(not c["number"].startswith("SAMR") for c in queue)
        assert client.get(f"/api/v1/applications/{number}", headers=headers).status_code == 404
        acted = client.post(
            f"/api/v1/applications/{number}/actions", headers=headers, json={"action": "accept"}
        )
        assert acted.status_code == 404
        samr = client.get("/api/v1/queue", headers=sign_in(client, "samr_clerk")).json()
        assert number in [c["number"] for c in samr]

    @pytest.mark.parametrize("username", ["tax_officer", "psb_officer"])
    def test_another_departments_official_sees_neither_on_the_pages(
        self, app: FastAPI, engine: Engine, username: str
    ) -> None:
        number = application_in(
            engine, applicant=create_applicant(engine), status=source_of(Action.ACCEPT)
        )
        client = page_client(app, username)

        assert number not in client.get("/queue").text
        assert number not in client.get("/queue?status=submitted").text
        case = client.get(f"/queue/{number}", headers={"Accept": "text/html"})
        assert case.status_code == 404
        page = client.get("/queue")
        forged = client.post(
            f"/queue/{number}/act", data={"csrf": csrf(page.text), "action": "accept"}
        )
        assert forged.status_code == 404
        assert number in page_client(app, "samr_clerk").get("/queue").text
