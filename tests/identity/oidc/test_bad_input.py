"""Bad input to the provider: each refused with the standard OAuth 2.0 / OIDC error code, never
redirected to an address the client did not register, and written to the audit log."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from sqlalchemy import Engine, update

from tests.fixtures.principals import OPERATOR
from tests.identity.oidc.conftest import AuditLog, register
from tests.identity.oidc.flow import (
    Registered,
    Request,
    code_for,
    exchange,
    key_set,
    query,
    refresh,
    sign_in,
    token_request,
    tokens,
    userinfo,
)
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.identity.oidc import hashing
from tongban.identity.oidc.models import AuthorizationCode
from tongban.kit.clock import utcnow

AUTHORIZE = "/oidc/authorize"
TOKEN = "/oidc/token"


def signed_in(browser: httpx.Client, provider: str, who: Account) -> httpx.Client:
    sign_in(browser, provider, who.username)
    return browser


def redirected_error(response: httpx.Response, client: Registered) -> dict[str, str]:
    """The error sent back to the client's registered redirect URI (RFC 6749 4.1.2.1)."""
    assert response.status_code == 302, response.text[:300]
    assert response.headers["location"].startswith(client.redirect_uri + "?")
    return query(response.headers["location"])


class TestUnknownClient:
    def test_authorize_refuses_it_without_redirecting(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        audit_log: AuditLog,
    ) -> None:
        stranger = Registered("no-such-client", None, [])
        response = browser.get(provider + AUTHORIZE, params=Request(stranger).params())
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.json()["error"] == "invalid_client"
        assert audit_log.refusals(
            error="invalid_client", client_id="no-such-client", endpoint=AUTHORIZE
        )

    def test_a_person_sees_the_refusal_as_a_page(
        self, provider: str, browser: httpx.Client
    ) -> None:
        stranger = Registered("no-such-client", None, [])
        response = browser.get(
            provider + AUTHORIZE, params=Request(stranger).params(), headers={"Accept": "text/html"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "The client does not exist on this server." in response.text

    def test_the_token_endpoint_refuses_it(self, provider: str, audit_log: AuditLog) -> None:
        data = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "http://x"}
        response = httpx.post(f"{provider}{TOKEN}", data={**data, "client_id": "no-such-client"})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client"
        basic = httpx.post(f"{provider}{TOKEN}", data=data, auth=("no-such-client", "secret"))
        assert basic.status_code == 401
        assert basic.json()["error"] == "invalid_client"
        assert len(audit_log.refusals(error="invalid_client", client_id="no-such-client")) == 2

    def test_a_deactivated_client_is_unknown(
        self, provider: str, browser: httpx.Client, engine: Engine
    ) -> None:
        from tongban.identity.oidc import service as oidc_service

        client = register(engine)
        with unit_of_work(engine) as session:
            oidc_service.deactivate_client(session, OPERATOR, client.client_id)
        response = browser.get(provider + AUTHORIZE, params=Request(client).params())
        assert response.json()["error"] == "invalid_client"


class TestMalformedParameters:
    """Found by fuzzing: values no OAuth parameter can hold (PostgreSQL cannot even store a NUL)
    are refused like missing ones, never answered with a server error."""

    @pytest.mark.parametrize("value", ["\x00", "abc\x00def", "line\nbreak"])
    def test_control_characters_in_the_client_id(
        self, provider: str, browser: httpx.Client, value: str, audit_log: AuditLog
    ) -> None:
        response = browser.get(
            provider + AUTHORIZE, params=Request(Registered(value, None, [])).params()
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client"
        token = httpx.post(
            f"{provider}{TOKEN}",
            data={"grant_type": "authorization_code", "code": "x", "client_id": value},
        )
        # Treated as no client_id at all: no way of authenticating is left (401, RFC 6749 5.2).
        assert token.status_code == 401
        assert token.json()["error"] == "invalid_client"
        assert len(audit_log.refusals(error="invalid_client")) == 2

    def test_a_redirect_uri_that_is_no_uri_at_all(
        self, provider: str, browser: httpx.Client, department_client: Registered
    ) -> None:
        request = Request(department_client, extra={"redirect_uri": "http://127.0.0.1:9/回调"})
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


class TestRedirectUri:
    @pytest.mark.parametrize(
        "wrong",
        [
            "http://127.0.0.1:9/callback/",  # a trailing slash
            "http://127.0.0.1:9/callback?x=1",  # an extra query
            "http://127.0.0.1:9/callbackx",  # a longer path
            "http://127.0.0.1:10/callback",  # another port
            "https://evil.example/callback",
            'http://127.0.0.1:9/callback"',  # not even a URI
        ],
    )
    def test_anything_but_an_exact_match_is_refused_without_redirecting(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        audit_log: AuditLog,
        wrong: str,
    ) -> None:
        request = Request(department_client, extra={"redirect_uri": wrong})
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.json()["error"] == "invalid_request"
        assert audit_log.refusals(
            error="invalid_request", client_id=department_client.client_id, endpoint=AUTHORIZE
        )

    def test_a_missing_redirect_uri_is_refused(
        self, provider: str, browser: httpx.Client, department_client: Registered
    ) -> None:
        params = Request(department_client).params()
        del params["redirect_uri"]
        response = browser.get(provider + AUTHORIZE, params=params)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_the_token_request_must_name_the_same_redirect_uri(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        client = register(engine)
        request = Request(client)
        code = code_for(browser, provider, request, citizen.username)
        response = exchange(provider, request, code, redirect_uri="http://127.0.0.1:9/other")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert audit_log.refusals(error="invalid_grant", client_id=client.client_id)


class TestScope:
    def test_a_scope_the_client_was_not_allowed_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        client = register(engine, scopes=("openid", "profile"))
        signed_in(browser, provider, citizen)
        request = Request(client, scope="openid profile id_number")
        answer = redirected_error(
            browser.get(provider + AUTHORIZE, params=request.params()), client
        )
        assert answer["error"] == "invalid_scope"
        assert answer["state"] == request.state
        assert "id_number" in answer["error_description"]
        assert audit_log.refusals(error="invalid_scope", client_id=client.client_id)

    @pytest.mark.parametrize("scope", ["profile", "", "email profile", "姓名"])
    def test_a_scope_without_openid_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        scope: str,
    ) -> None:
        signed_in(browser, provider, citizen)
        request = Request(department_client, scope=scope)
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert redirected_error(response, department_client)["error"] == "invalid_scope"


class TestNonce:
    def test_an_overlong_nonce_is_refused(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        signed_in(browser, provider, citizen)
        request = Request(department_client, nonce="n" * 256)
        answer = redirected_error(
            browser.get(provider + AUTHORIZE, params=request.params()), department_client
        )
        assert answer["error"] == "invalid_request"

    def test_a_nonce_used_before_by_the_client_is_refused(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        first = Request(department_client)
        code_for(browser, provider, first, citizen.username)
        again = Request(department_client, nonce=first.nonce)
        answer = redirected_error(
            browser.get(provider + AUTHORIZE, params=again.params()), department_client
        )
        assert answer["error"] == "invalid_request"


class TestResponseAndGrantType:
    def test_an_implicit_flow_request_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        audit_log: AuditLog,
    ) -> None:
        request = Request(department_client, extra={"response_type": "token"})
        response = browser.get(provider + AUTHORIZE, params=request.params())
        assert redirected_error(response, department_client)["error"] == "unsupported_response_type"
        assert audit_log.refusals(error="unsupported_response_type")

    def test_the_password_grant_is_refused(
        self, provider: str, department_client: Registered, audit_log: AuditLog
    ) -> None:
        response = token_request(
            provider,
            department_client,
            {"grant_type": "password", "username": "zhangsan", "password": "demo-password"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"
        assert audit_log.refusals(error="unsupported_grant_type", endpoint=TOKEN)


class TestPkce:
    def test_a_public_client_without_pkce_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        public_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        signed_in(browser, provider, citizen)
        request = Request(public_client, verifier=None)
        answer = redirected_error(
            browser.get(provider + AUTHORIZE, params=request.params()), public_client
        )
        assert answer["error"] == "invalid_request"
        assert "PKCE" in answer["error_description"]
        assert audit_log.refusals(error="invalid_request", client_id=public_client.client_id)

    def test_the_plain_method_is_refused(
        self, provider: str, browser: httpx.Client, public_client: Registered, citizen: Account
    ) -> None:
        signed_in(browser, provider, citizen)
        request = Request(public_client, method="plain")
        answer = redirected_error(
            browser.get(provider + AUTHORIZE, params=request.params()), public_client
        )
        assert answer["error"] == "invalid_request"

    def test_a_verifier_that_does_not_match_is_invalid_grant(
        self,
        provider: str,
        browser: httpx.Client,
        public_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(public_client)
        code = code_for(browser, provider, request, citizen.username)
        response = exchange(provider, request, code, verifier="x" * 43)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert audit_log.refusals(error="invalid_grant", client_id=public_client.client_id)

    def test_a_public_client_must_send_the_verifier(
        self, provider: str, browser: httpx.Client, public_client: Registered, citizen: Account
    ) -> None:
        request = Request(public_client)
        code = code_for(browser, provider, request, citizen.username)
        response = exchange(provider, Request(public_client, verifier=None), code)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_a_confidential_client_that_used_pkce_must_finish_it(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        response = exchange(provider, Request(department_client, verifier=None), code)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


class TestCode:
    def test_a_replayed_code_is_refused_and_what_it_bought_is_revoked(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        first = exchange(provider, request, code)
        assert first.status_code == 200
        issued = first.json()
        assert userinfo(provider, issued["access_token"]).status_code == 200

        again = exchange(provider, request, code)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert userinfo(provider, issued["access_token"]).status_code == 401
        assert refresh(provider, department_client, issued["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )
        replayed = audit_log.since("oidc.code_replayed")
        assert len(replayed) == 1
        assert replayed[0].details["tokens_revoked"] == 2
        assert audit_log.refusals(error="invalid_grant", client_id=department_client.client_id)

    def test_an_expired_code_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        with unit_of_work(engine) as session:
            session.execute(
                update(AuthorizationCode)
                .where(AuthorizationCode.code_hash == hashing.token_hash(code))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        response = exchange(provider, request, code)
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_grant",
            "error_description": "The code has expired.",
        }
        assert audit_log.refusals(error="invalid_grant", description="The code has expired.")

    def test_codes_live_one_minute(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        code = code_for(browser, provider, Request(department_client), citizen.username)
        with unit_of_work(engine) as session:
            row = (
                session.query(AuthorizationCode).filter_by(code_hash=hashing.token_hash(code)).one()
            )
            lifetime = row.expires_at - utcnow()
        assert timedelta(seconds=50) < lifetime <= timedelta(seconds=60)

    def test_a_code_issued_to_another_client_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        other = register(engine)
        response = exchange(provider, Request(other, verifier=request.verifier), code)
        assert response.json()["error"] == "invalid_grant"
        # And the rightful client can still use it: the thief did not burn it.
        assert exchange(provider, request, code).status_code == 200

    def test_a_made_up_code_is_refused(self, provider: str, department_client: Registered) -> None:
        response = exchange(provider, Request(department_client), "made-up")
        assert response.json()["error"] == "invalid_grant"


def tamper(token: str) -> str:
    """Change one character of the payload, keeping it valid JSON: the signature no longer fits."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    sub = claims["sub"]
    claims["sub"] = ("A" if sub[0] != "A" else "B") + sub[1:]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


class TestTamperedIdToken:
    def test_verification_fails_after_one_payload_character_changed(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        keys = key_set(provider)
        jwt.decode(issued["id_token"], keys, algorithms=["RS256"])  # the real one verifies
        with pytest.raises(BadSignatureError):
            jwt.decode(tamper(issued["id_token"]), keys, algorithms=["RS256"])

    def test_a_flipped_signature_bit_fails_too(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        header, payload, signature = issued["id_token"].split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[10] ^= 0x01
        flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        with pytest.raises(BadSignatureError):
            jwt.decode(f"{header}.{payload}.{flipped}", key_set(provider), algorithms=["RS256"])

    def test_logout_with_a_tampered_hint_signs_no_one_out_without_asking(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = browser.get(
            f"{provider}/oidc/logout",
            params={
                "id_token_hint": tamper(issued["id_token"]),
                "post_logout_redirect_uri": department_client.post_logout_uri,
            },
        )
        # Not trusted, so not acted on: the person is asked (RP-Initiated Logout 1.0 section 2).
        assert response.status_code == 200
        assert "location" not in response.headers
        assert 'data-testid="logout-confirm"' in response.text
        assert userinfo(provider, issued["access_token"]).status_code == 200
        assert audit_log.refusals(error="invalid_request", endpoint="/oidc/logout")
