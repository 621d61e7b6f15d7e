"""The authorization code flow end to end, over real HTTP against a live tongban."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.oidc import rpinitiated
from authlib.oidc.discovery import OpenIDProviderMetadata
from sqlalchemy import Engine

from tests.identity.oidc.conftest import AuditLog, register
from tests.identity.oidc.flow import (
    Registered,
    Request,
    code_for,
    exchange,
    query,
    sign_in,
    tokens,
    userinfo,
    verify_id_token,
)
from tongban.identity.models import Account


class TestDiscovery:
    def test_the_document_names_every_endpoint_under_the_issuer(self, provider: str) -> None:
        doc = httpx.get(f"{provider}/.well-known/openid-configuration").json()
        assert doc["issuer"] == provider
        for key, path in {
            "authorization_endpoint": "/oidc/authorize",
            "token_endpoint": "/oidc/token",
            "userinfo_endpoint": "/oidc/userinfo",
            "jwks_uri": "/oidc/jwks",
            "revocation_endpoint": "/oidc/revoke",
            "end_session_endpoint": "/oidc/logout",
        }.items():
            assert doc[key] == provider + path
        assert doc["response_types_supported"] == ["code"]
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert set(doc["scopes_supported"]) >= {"openid", "profile", "phone", "id_number"}
        assert doc["subject_types_supported"] == ["pairwise"]
        assert doc["acr_values_supported"] == ["tongban:loa:1", "tongban:loa:2"]
        OpenIDProviderMetadata(doc).validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
        assert set(doc["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
            "none",
        }

    def test_it_lists_every_grant_type_the_token_endpoint_takes(self, provider: str) -> None:
        doc = httpx.get(f"{provider}/.well-known/openid-configuration").json()
        assert set(doc["grant_types_supported"]) == {
            "authorization_code",
            "refresh_token",
            "client_credentials",
        }

    def test_it_offers_the_email_scope_and_its_claims(self, provider: str) -> None:
        doc = httpx.get(f"{provider}/.well-known/openid-configuration").json()
        assert "email" in doc["scopes_supported"]
        assert {"email", "email_verified"} <= set(doc["claims_supported"])

    def test_jwks_publishes_public_rsa_keys_only(self, provider: str) -> None:
        keys = httpx.get(f"{provider}/oidc/jwks").json()["keys"]
        assert keys
        for key in keys:
            assert key["kty"] == "RSA"
            assert key["alg"] == "RS256"
            assert key["use"] == "sig"
            assert key["kid"]
            assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


class TestConfidentialClient:
    def test_a_person_not_signed_in_is_sent_to_sign_in_and_brought_back(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client)
        first = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert first.status_code == 303
        login = urlsplit(first.headers["location"])
        assert login.path == "/login"
        next_path = query(first.headers["location"])["next"]
        assert next_path.startswith("/oidc/authorize?")
        assert query(next_path)["client_id"] == department_client.client_id
        back = sign_in(browser, provider, citizen.username, next_path)
        assert back.headers["location"] == next_path
        issued = browser.get(provider + next_path)
        assert issued.status_code == 302
        assert issued.headers["location"].startswith(department_client.redirect_uri + "?code=")

    def test_the_code_buys_tokens_and_a_verified_id_token(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client, scope="openid profile")
        before = int(time.time()) - 5
        body = tokens(browser, provider, request, citizen.username)
        assert body["token_type"] == "Bearer"
        assert 0 < body["expires_in"] <= 600
        assert body["scope"] == "openid profile"
        assert body["refresh_token"]
        claims = verify_id_token(provider, body["id_token"], department_client)
        assert claims["nonce"] == request.nonce
        assert claims["subject_type"] == "person"
        assert claims["acr"]
        assert "pwd" in claims["amr"]
        assert before <= claims["auth_time"] <= int(time.time()) + 5
        assert claims["at_hash"]
        # Personal data stays out of the id_token, which travels through browsers.
        assert not {"name", "phone_number", "id_number"} & set(claims)

    def test_userinfo_answers_for_the_access_token(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        body = tokens(browser, provider, Request(department_client), citizen.username)
        info = userinfo(provider, body["access_token"])
        assert info.status_code == 200
        assert info.headers["cache-control"] == "no-store"
        id_claims = verify_id_token(provider, body["id_token"], department_client)
        assert info.json()["sub"] == id_claims["sub"]
        assert info.json()["name"] == citizen.display_name

    def test_client_secret_post_is_accepted_too(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        response = exchange(provider, request, code, auth="post")
        assert response.status_code == 200, response.text

    def test_a_wrong_secret_is_refused_as_invalid_client(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        response = httpx.post(
            f"{provider}/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": department_client.redirect_uri,
                "code_verifier": request.verifier or "",
            },
            auth=(department_client.client_id, "not-the-secret"),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic ")
        assert audit_log.refusals(
            error="invalid_client", client_id=department_client.client_id, endpoint="/oidc/token"
        )

    def test_a_confidential_client_without_its_secret_is_refused(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        request = Request(department_client)
        code = code_for(browser, provider, request, citizen.username)
        anonymous = Registered(department_client.client_id, None, department_client.scopes)
        response = exchange(provider, Request(anonymous, verifier=request.verifier), code)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


class TestPostedRequest:
    def test_an_authentication_request_may_be_posted(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        """OIDC Core 3.1.2.1: the authorization endpoint takes GET and POST."""
        sign_in(browser, provider, citizen.username)
        response = browser.post(
            f"{provider}/oidc/authorize", data=Request(department_client).params()
        )
        assert response.status_code == 302
        assert response.headers["location"].startswith(department_client.redirect_uri + "?code=")

    def test_a_posted_request_without_a_sign_in_comes_back_as_a_get(
        self, provider: str, browser: httpx.Client, department_client: Registered
    ) -> None:
        request = Request(department_client)
        response = browser.post(f"{provider}/oidc/authorize", data=request.params())
        assert response.status_code == 303
        next_path = query(response.headers["location"])["next"]
        assert query(next_path) == request.params()


class TestOneSignOn:
    def test_a_signed_in_person_goes_straight_through_to_a_second_system(
        self, provider: str, browser: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        first = register(engine)
        second = register(engine, department="PSB")
        tokens(browser, provider, Request(first), citizen.username)
        # No sign-in this time: the portal session is the one sign-on.
        response = browser.get(f"{provider}/oidc/authorize", params=Request(second).params())
        assert response.status_code == 302
        assert response.headers["location"].startswith(second.redirect_uri + "?code=")

    def test_prompt_login_asks_for_the_password_again(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        tokens(browser, provider, Request(department_client), citizen.username)
        request = Request(department_client, extra={"prompt": "login"})
        response = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert response.status_code == 303
        next_path = query(response.headers["location"])["next"]
        assert "prompt" not in query(next_path)  # or signing in again would loop

    def test_max_age_zero_asks_again_once(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        tokens(browser, provider, Request(department_client), citizen.username)
        request = Request(department_client, extra={"max_age": "0"})
        response = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert response.status_code == 303
        next_path = query(response.headers["location"])["next"]
        assert "max_age" not in query(next_path)
        sign_in(browser, provider, citizen.username, next_path)
        assert browser.get(provider + next_path).status_code == 302

    @pytest.mark.parametrize("max_age", ["-1", "ten", "²"])
    def test_a_max_age_that_is_no_number_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        max_age: str,
    ) -> None:
        sign_in(browser, provider, citizen.username)
        request = Request(department_client, extra={"max_age": max_age})
        response = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert response.status_code == 302
        assert query(response.headers["location"])["error"] == "invalid_request"

    def test_prompt_none_without_a_sign_in_answers_login_required(
        self, provider: str, browser: httpx.Client, department_client: Registered
    ) -> None:
        request = Request(department_client, extra={"prompt": "none"})
        response = browser.get(f"{provider}/oidc/authorize", params=request.params())
        assert response.status_code == 302
        answer = query(response.headers["location"])
        assert answer["error"] == "login_required"
        assert answer["state"] == request.state


class TestAfterTheSignInForm:
    def test_a_page_of_our_own_moves_on_to_the_client(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        """Arriving from our own sign-in form, a redirect to the client would be blocked by the
        browser (form-action 'self'), so the code is handed over by a page that moves on."""
        sign_in(browser, provider, citizen.username)
        response = browser.get(
            f"{provider}/oidc/authorize",
            params=Request(department_client).params(),
            headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"},
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        refresh = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', response.text)
        assert refresh is not None
        target = html.unescape(refresh.group(1))
        assert target.startswith(department_client.redirect_uri + "?code=")


class TestPublicClient:
    def test_a_public_client_signs_in_with_pkce_and_no_secret(
        self, provider: str, browser: httpx.Client, public_client: Registered, citizen: Account
    ) -> None:
        request = Request(public_client)
        body = tokens(browser, provider, request, citizen.username)
        claims = verify_id_token(provider, body["id_token"], public_client)
        assert claims["aud"] == public_client.client_id
        assert userinfo(provider, body["access_token"]).status_code == 200
