"""How the provider reads a request's parameters: each at most once (RFC 6749 3.1, 3.2), request
objects refused as unsupported (OIDC Core 6), scopes it does not define ignored (OIDC Core
3.1.2.1), and a token request without grant_type malformed (RFC 6749 5.2)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.identity.oidc.conftest import AuditLog
from tests.identity.oidc.flow import (
    Registered,
    Request,
    code_for,
    exchange,
    query,
    sign_in,
    tokens,
    userinfo,
)
from tests.identity.oidc.test_refresh_and_revoke import revoke
from tongban.identity.models import Account

AUTHORIZE = "/oidc/authorize"
TOKEN = "/oidc/token"
LOGOUT = "/oidc/logout"
VALID = {"prompt": "login", "max_age": "600"}


def code_request(client: Registered, request: Request, code: str) -> list[tuple[str, str]]:
    data = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri),
    ]
    if request.verifier:
        data.append(("code_verifier", request.verifier))
    return data


def post_token(provider: str, client: Registered, data: list[tuple[str, str]]) -> httpx.Response:
    return httpx.post(
        f"{provider}{TOKEN}",
        content=urlencode(data).encode(),  # repeated keys kept as they are
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=client.auth,
    )


class TestRepeatedParameters:
    def test_a_second_redirect_uri_at_the_token_endpoint_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        data = [*code_request(department_client, request, code)]
        data.append(("redirect_uri", "https://evil.example/callback"))
        response = post_token(provider, department_client, data)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "redirect_uri" in response.json()["error_description"]
        assert "access_token" not in response.json()
        assert audit_log.refusals(
            error="invalid_request", client_id=department_client.client_id, endpoint=TOKEN
        )

    @pytest.mark.parametrize("name", ["grant_type", "code", "code_verifier", "client_id"])
    def test_any_parameter_twice_at_the_token_endpoint_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        name: str,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        data = [*code_request(department_client, request, code)]
        if name == "client_id":
            data.append(("client_id", department_client.client_id))
        data.append((name, dict(data)[name]))  # the same value again: still twice
        response = post_token(provider, department_client, data)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        # Refused before the code was looked at: it still buys tokens once, asked properly.
        assert exchange(provider, request, code).status_code == 200

    @pytest.mark.parametrize("name", ["nonce", "code_challenge", "prompt", "max_age"])
    def test_any_parameter_twice_at_authorize_is_refused_without_redirecting(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
        name: str,
    ) -> None:
        sign_in(browser, provider, citizen.username)
        params = list(Request(department_client).params().items())
        sent = dict(params)
        # Sent twice in all: a second copy of one the request has, or two of a valid value.
        params += [(name, sent[name])] if name in sent else [(name, VALID[name])] * 2
        response = browser.get(provider + AUTHORIZE, params=params)
        assert response.status_code == 400
        assert "location" not in response.headers  # which redirect_uri would it be?
        assert response.json()["error"] == "invalid_request"
        assert audit_log.refusals(error="invalid_request", endpoint=AUTHORIZE)

    def test_a_token_twice_at_the_revocation_endpoint_is_refused(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = httpx.post(
            f"{provider}/oidc/revoke",
            content=urlencode([("token", issued["refresh_token"]), ("token", "x")]).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=department_client.auth,
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert userinfo(provider, issued["access_token"]).status_code == 200
        assert revoke(provider, department_client, issued["refresh_token"]).status_code == 200

    def test_a_post_logout_uri_twice_is_refused_and_signs_no_one_out(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = browser.get(
            provider + LOGOUT,
            params=[
                ("id_token_hint", issued["id_token"]),
                ("post_logout_redirect_uri", department_client.post_logout_uri),
                ("post_logout_redirect_uri", "https://evil.example/after"),
            ],
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert userinfo(provider, issued["access_token"]).status_code == 200


class TestRequestObjects:
    @pytest.mark.parametrize(
        ("name", "error"),
        [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
    )
    def test_are_refused_as_unsupported_and_no_code_is_issued(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
        name: str,
        error: str,
    ) -> None:
        sign_in(browser, provider, citizen.username)
        value = {
            "request": "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.",
            "request_uri": "https://evil.example/request.jwt",
        }[name]
        request = Request(department_client, extra={name: value})
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert response.status_code == 302
        assert response.headers["location"].startswith(department_client.redirect_uri + "?")
        answer = query(response.headers["location"])
        assert answer["error"] == error
        assert answer["state"] == request.state
        assert "code" not in answer
        assert audit_log.refusals(error=error, client_id=department_client.client_id)

    def test_discovery_says_so(self, provider: str) -> None:
        doc = httpx.get(f"{provider}/.well-known/openid-configuration").json()
        assert doc["request_parameter_supported"] is False
        assert doc["request_uri_parameter_supported"] is False


class TestUnknownScopes:
    @pytest.mark.parametrize("scope", ["openid profile made_up", "openid 姓名 profile"])
    def test_are_ignored_and_left_out_of_the_grant(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        scope: str,
    ) -> None:
        issued = tokens(
            browser, provider, Request(department_client, scope=scope), citizen.username
        )
        assert issued["scope"] == "openid profile"
        assert userinfo(provider, issued["access_token"]).json()["name"] == citizen.display_name

    def test_a_known_scope_the_client_was_not_allowed_is_still_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        # Ignoring is for scopes this provider does not define; what an administrator did not
        # allow the client stays a loud invalid_scope (see test_bad_input.TestScope).
        sign_in(browser, provider, citizen.username)
        request = Request(department_client, scope="openid made_up email")
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert response.status_code == 302
        assert query(response.headers["location"])["error"] == "invalid_scope"


class TestGrantType:
    def test_a_missing_grant_type_is_invalid_request(
        self, provider: str, department_client: Registered, audit_log: AuditLog
    ) -> None:
        response = post_token(provider, department_client, [("code", "x")])
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert audit_log.refusals(error="invalid_request", endpoint=TOKEN)

    def test_an_unknown_one_is_still_unsupported_grant_type(
        self, provider: str, department_client: Registered
    ) -> None:
        response = post_token(provider, department_client, [("grant_type", "made_up")])
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"
