"""The sign-in and account pages over HTTP, as a browser uses them (cookie, CSRF token in forms):
the second step, setting up an authenticator, sessions, acting for a legal person."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.fixtures.forms import csrf, submit
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import (
    MovingClock,
    Person,
    code,
    fresh_uscc,
    load,
    new_citizen,
    new_official,
)
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.identity.companies import service as companies_service


def web_client(app: FastAPI, lang: str = "en") -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("tongban_lang", lang)
    return client


def password_step(client: TestClient, person: Person, next: str = "") -> str:
    response = submit(
        client, "/login", {"username": person.username, "password": PASSWORD, "next": next}
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def signed_in(app: FastAPI, person: Person, lang: str = "en") -> TestClient:
    client = web_client(app, lang)
    location = password_step(client, person)
    if location.startswith("/login/code"):
        page = client.get(location)
        assert person.totp_secret
        response = client.post(
            "/login/code",
            data={"csrf": csrf(page.text), "code": code(person.totp_secret), "next": ""},
        )
        assert response.status_code == 303, response.text
    return client


class TestOfficialSignIn:
    def test_the_password_leads_to_the_code_and_the_code_to_the_queue(
        self, app: FastAPI, engine: Engine
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        client = web_client(app)
        location = password_step(client, official, next="/queue?status=submitted")
        assert location.startswith("/login/code")
        assert client.get("/queue").status_code == 303, "no usable session yet"

        page = client.get(location)
        assert page.status_code == 200
        assert 'autocomplete="one-time-code"' in page.text
        response = client.post(
            "/login/code",
            data={
                "csrf": csrf(page.text),
                "code": code(official.totp_secret),
                "next": unquote(location.split("next=", 1)[1]),
            },
        )

        assert (response.status_code, response.headers["location"]) == (
            303,
            "/queue?status=submitted",
        )
        assert client.get("/queue").status_code == 200

    def test_a_wrong_code_is_shown_on_the_code_page(self, app: FastAPI, engine: Engine) -> None:
        official = new_official(engine)
        client = web_client(app)
        page = client.get(password_step(client, official))

        response = client.post("/login/code", data={"csrf": csrf(page.text), "code": "000000x"})

        assert response.status_code == 401
        assert 'role="alert"' in response.text
        assert "authenticator app shows now" in response.text
        assert "/login/code" in response.text, "still on the code step"

    def test_too_many_wrong_codes_send_back_to_the_password(
        self, app: FastAPI, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        client = web_client(app)
        page = client.get(password_step(client, official))
        token = csrf(page.text)
        for _ in range(get_settings().sign_in_max_failures):
            client.post("/login/code", data={"csrf": token, "code": "abcdef"})

        response = client.post(
            "/login/code", data={"csrf": token, "code": code(official.totp_secret)}
        )

        assert response.status_code == 401
        assert 'action="/login"' in response.text
        assert "Wrong username or password" in response.text

    def test_an_official_without_an_authenticator_sets_one_up_before_anything_else(
        self, app: FastAPI, engine: Engine
    ) -> None:
        official = new_official(engine, totp=False)
        client = web_client(app)
        location = password_step(client, official)
        assert location.startswith("/login/enrol")
        assert client.get("/queue").status_code == 303
        assert client.get("/account").status_code == 303

        page = client.get(location)
        assert page.status_code == 200
        assert 'data-testid="mandatory"' in page.text
        qr = re.search(r'<img class="qr" src="(data:image/svg\+xml[^"]+)"', page.text)
        assert qr, "the QR code is an inline data URI image"
        assert "<script>" not in page.text
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text)
        assert secret
        app_code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
        response = client.post("/login/enrol", data={"csrf": csrf(page.text), "code": app_code})

        assert (response.status_code, response.headers["location"]) == (303, "/queue")
        assert client.get("/queue").status_code == 200
        assert load(engine, official.username).totp_enabled

    def test_the_enrolment_page_keeps_within_the_content_security_policy(
        self, app: FastAPI, engine: Engine
    ) -> None:
        client = web_client(app)
        page = client.get(password_step(client, new_official(engine, totp=False)))
        policy = page.headers["content-security-policy"]
        assert "img-src 'self' data:" in policy
        assert "script-src 'self'" in policy
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "no inline script"

    def test_a_code_page_without_a_password_first_goes_back_to_sign_in(self, app: FastAPI) -> None:
        client = web_client(app)
        assert client.get("/login/code").headers["location"].startswith("/login")
        assert client.get("/login/enrol").headers["location"].startswith("/login")


class TestCitizenAccountPage:
    def test_a_citizen_turns_two_step_sign_in_on_from_the_account_page(
        self, app: FastAPI, engine: Engine
    ) -> None:
        citizen = new_citizen(engine)
        client = signed_in(app, citizen)
        account = client.get("/account")
        assert account.status_code == 200
        assert 'href="/account/totp"' in account.text

        page = client.get("/account/totp")
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text)
        assert secret
        response = client.post(
            "/account/totp",
            data={
                "csrf": csrf(page.text),
                "code": pyotp.TOTP(secret.group(1).replace(" ", "")).now(),
            },
        )

        assert response.headers["location"] == "/account?done=totp_on"
        assert "Two-step sign-in is on." in client.get("/account?done=totp_on").text
        assert password_step(web_client(app), citizen).startswith("/login/code")

    def test_lists_sessions_and_ends_one(self, app: FastAPI, engine: Engine) -> None:
        citizen = new_citizen(engine)
        here, elsewhere = signed_in(app, citizen), signed_in(app, citizen)
        page = here.get("/account")
        rows = re.findall(r'action="/account/sessions/(\d+)/revoke"', page.text)
        assert len(rows) == 2
        assert page.text.count("this browser") == 1
        current_row = _current(here)
        other_id = next(r for r in rows if f"/sessions/{r}/revoke" not in current_row)

        response = here.post(f"/account/sessions/{other_id}/revoke", data={"csrf": csrf(page.text)})

        assert response.headers["location"] == "/account?done=session_ended"
        assert elsewhere.get("/account").status_code == 303
        assert here.get("/account").status_code == 200

    def test_signing_out_everywhere_ends_this_session_too(
        self, app: FastAPI, engine: Engine
    ) -> None:
        citizen = new_citizen(engine)
        here, elsewhere = signed_in(app, citizen), signed_in(app, citizen)
        page = here.get("/account")
        response = here.post("/account/sessions/revoke-all", data={"csrf": csrf(page.text)})
        assert response.headers["location"] == "/login"
        assert here.get("/account").status_code == 303
        assert elsewhere.get("/account").status_code == 303

    def test_forms_without_the_csrf_token_are_refused(self, app: FastAPI, engine: Engine) -> None:
        client = signed_in(app, new_citizen(engine))
        assert client.post("/account/sessions/revoke-all", data={}).status_code == 403
        assert client.get("/account").status_code == 200


def _current(client: TestClient) -> str:
    """The row of the account page's session table marked as this browser."""
    page = client.get("/account").text
    row = next(r for r in page.split("<tr") if "this browser" in r)
    return row


class TestActingForOnThePages:
    def test_an_agent_switches_and_the_header_says_for_whom(
        self, app: FastAPI, engine: Engine
    ) -> None:
        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = fresh_uscc()
        with unit_of_work(engine) as session:
            companies_service.register_legal_person(
                session,
                OPERATOR,
                uscc=uscc,
                name="临江页面测试有限公司",
                representative=boss.username,
            )
        client = signed_in(app, boss, lang="zh_CN")
        page = client.get("/account")
        assert 'data-testid="agents"' in page.text, "the representative manages agents"
        granted = client.post(
            f"/account/companies/{uscc}/agents",
            data={"csrf": csrf(page.text), "username": agent.username, "until": ""},
        )
        assert granted.headers["location"] == "/account?done=granted"

        agent_client = signed_in(app, agent, lang="zh_CN")
        page = agent_client.get("/account")
        assert 'data-testid="acting-for"' not in client.get("/applications").text
        switched = agent_client.post(
            "/account/acting-for", data={"csrf": csrf(page.text), "uscc": uscc}
        )
        assert switched.headers["location"] == "/account?done=acting"

        header = agent_client.get("/applications").text
        assert 'data-testid="acting-for"' in header
        assert "临江页面测试有限公司" in header
        page = agent_client.get("/account")
        agent_client.post("/account/acting-for", data={"csrf": csrf(page.text), "uscc": ""})
        assert 'data-testid="acting-for"' not in agent_client.get("/applications").text

    def test_switching_to_a_company_one_is_not_authorised_for_is_refused(
        self, app: FastAPI, engine: Engine
    ) -> None:
        boss, stranger = new_citizen(engine), new_citizen(engine)
        uscc = fresh_uscc()
        with unit_of_work(engine) as session:
            companies_service.register_legal_person(
                session, OPERATOR, uscc=uscc, name="别家有限公司", representative=boss.username
            )
        client = signed_in(app, stranger)
        page = client.get("/account")

        response = client.post("/account/acting-for", data={"csrf": csrf(page.text), "uscc": uscc})

        assert response.status_code == 403
        assert "You are not authorised to act for 别家有限公司." in response.text
        assert 'data-testid="acting-for"' not in client.get("/applications").text
