"""Login CSRF (issue 18, item 4): another site must not be able to post the sign-in forms in a
visitor's browser, signed in or not. Every visitor gets a random cookie of their own, and each
form's token is bound to it: a post without a token, with a made-up one, with the one token all
signed-out visitors used to share, or with another visitor's token is refused (403)."""

from __future__ import annotations

import hashlib

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.fixtures.forms import csrf, submit
from tests.identity.factories import code, fresh_id_number, new_citizen, new_official
from tests.identity.test_pages import password_step, web_client
from tongban.web.deps import CSRF_COOKIE

# The token every visitor without a session cookie got before: sha256("csrf:")[:32].
SHARED_OLD_TOKEN = hashlib.sha256(b"csrf:").hexdigest()[:32]

# Each form, the page that shows it, and what a person would type into it.
FORMS = {
    "/login": ("/login", {"username": "zhangsan", "password": PASSWORD}),
    "/register": (
        "/register",
        {"display_name": "王伪造", "id_number": fresh_id_number(), "phone": "13700137000"},
    ),
    "/claim": ("/claim", {"id_number": fresh_id_number()}),
    "/claim/finish": (
        "/claim",
        {"id_number": fresh_id_number(), "code": "123456", "username": "forged", "password": "x"},
    ),
}


def forged_tokens(app: FastAPI, page: str) -> dict[str, str | None]:
    other = web_client(app)
    return {
        "none": None,
        "made up": "0" * 32,
        "the old shared one": SHARED_OLD_TOKEN,
        "another visitor's": csrf(other.get(page).text),
    }


class TestSignedOutForms:
    @pytest.mark.parametrize("path", FORMS)
    def test_a_post_without_this_visitors_token_is_refused(self, app: FastAPI, path: str) -> None:
        page, data = FORMS[path]
        for what, token in forged_tokens(app, page).items():
            body = data | ({"csrf": token} if token is not None else {})
            # Another site can post from a browser that has been here (it has a cookie) and
            # from one that has not.
            been_here = web_client(app)
            been_here.get(page)
            for visitor in (been_here, web_client(app)):
                response = visitor.post(path, data=body)
                assert response.status_code == 403, (path, what, response.text[:300])

    def test_each_visitor_gets_a_random_http_only_cookie(self, app: FastAPI) -> None:
        first, second = web_client(app), web_client(app)
        answer = first.get("/login")
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{CSRF_COOKIE}=")
        assert "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        second.get("/login")
        assert first.cookies[CSRF_COOKIE] != second.cookies[CSRF_COOKIE]
        assert csrf(first.get("/login").text) != csrf(second.get("/login").text)
        assert csrf(first.get("/login").text) == csrf(first.get("/register").text)

    def test_the_visitors_own_token_signs_in(self, app: FastAPI, engine: Engine) -> None:
        citizen = new_citizen(engine)
        client = web_client(app)
        response = submit(client, "/login", {"username": citizen.username, "password": PASSWORD})
        assert (response.status_code, response.headers["location"]) == (303, "/applications")
        assert client.get("/account").status_code == 200


class TestTheSecondStep:
    def test_the_code_step_needs_this_visitors_token(self, app: FastAPI, engine: Engine) -> None:
        official = new_official(engine)
        assert official.totp_secret
        client = web_client(app)
        location = password_step(client, official)
        assert location.startswith("/login/code")
        good = code(official.totp_secret)
        for what, token in forged_tokens(app, "/login").items():
            body = {"code": good} | ({"csrf": token} if token is not None else {})
            response = client.post("/login/code", data=body)
            assert response.status_code == 403, what
        assert client.get("/queue").status_code == 303, "still not signed in"
        page = client.get(location)
        response = client.post("/login/code", data={"csrf": csrf(page.text), "code": good})
        assert response.status_code == 303, response.text
        assert client.get("/queue").status_code == 200

    def test_the_token_changes_when_the_person_signs_in(self, app: FastAPI, engine: Engine) -> None:
        citizen = new_citizen(engine)
        client = web_client(app)
        before = csrf(client.get("/login").text)
        password_step(client, citizen)
        after = csrf(client.get("/account").text)
        assert before != after
        # The signed-out token no longer works for the signed-in forms.
        refused = client.post("/account/sessions/revoke-all", data={"csrf": before})
        assert refused.status_code == 403
