"""RP-initiated logout ends the one sign-on: the portal session and every token issued under it."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import Engine, update

from tests.fixtures.principals import OPERATOR
from tests.identity.oidc.conftest import AuditLog, register
from tests.identity.oidc.flow import Registered, Request, query, refresh, tokens, userinfo
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.identity.oidc import service as oidc_service
from tongban.identity.oidc.models import SigningKey
from tongban.kit.clock import utcnow

LOGOUT = "/oidc/logout"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def portal_signed_in(browser: httpx.Client, provider: str) -> bool:
    response = browser.get(f"{provider}/applications")
    return response.status_code == 200


class TestLogoutWithHint:
    def test_signs_out_everywhere_and_returns_to_the_client_with_its_state(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        other = register(engine, department="PSB")
        other_issued = tokens(browser, provider, Request(other))  # the same sign-on
        assert portal_signed_in(browser, provider)

        response = browser.get(
            provider + LOGOUT,
            params={
                "id_token_hint": issued["id_token"],
                "post_logout_redirect_uri": department_client.post_logout_uri,
                "state": "bye-123",
            },
        )
        assert response.status_code == 302
        assert response.headers["location"] == department_client.post_logout_uri + "?state=bye-123"
        # Every client's tokens from that sign-on are refused now, and the portal is signed out.
        for access in (issued["access_token"], other_issued["access_token"]):
            refused = userinfo(provider, access)
            assert refused.status_code == 401
            assert refused.json()["error"] == "invalid_token"
        assert refresh(provider, other, other_issued["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )
        assert not portal_signed_in(browser, provider)
        signed_out = audit_log.since("oidc.signed_out")
        assert len(signed_out) == 1
        assert signed_out[0].actor == citizen.username
        assert signed_out[0].details["tokens_revoked"] == 4

    def test_an_unregistered_post_logout_uri_is_not_followed(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = browser.get(
            provider + LOGOUT,
            params={
                "id_token_hint": issued["id_token"],
                "post_logout_redirect_uri": "https://evil.example/after",
            },
        )
        assert response.status_code == 200
        assert "location" not in response.headers
        assert 'data-testid="signed-out"' in response.text
        assert userinfo(provider, issued["access_token"]).status_code == 401
        assert audit_log.refusals(error="invalid_request", endpoint=LOGOUT)


class TestLogoutWithoutHint:
    def test_the_person_is_asked_first(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        page = browser.get(provider + LOGOUT, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert 'data-testid="logout-confirm"' in page.text
        # Merely opening the address (a link on another site) signed no one out.
        assert userinfo(provider, issued["access_token"]).status_code == 200

        form = dict(_HIDDEN.findall(page.text))
        done = browser.post(provider + LOGOUT, data={**form, "confirm": "yes"})
        assert done.status_code == 200
        assert 'data-testid="signed-out"' in done.text
        assert userinfo(provider, issued["access_token"]).status_code == 401
        assert not portal_signed_in(browser, provider)

    def test_a_post_without_our_csrf_token_is_not_a_confirmation(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        page = browser.post(provider + LOGOUT, data={"confirm": "yes", "csrf": "forged"})
        assert 'data-testid="logout-confirm"' in page.text
        assert userinfo(provider, issued["access_token"]).status_code == 200

    def test_a_hint_for_someone_else_is_asked_about_too(
        self,
        provider: str,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        with httpx.Client() as theirs, httpx.Client() as mine:
            their_tokens = tokens(theirs, provider, Request(department_client), "zhangsan")
            my_tokens = tokens(mine, provider, Request(department_client), citizen.username)
            page = mine.get(
                provider + LOGOUT,
                params={"id_token_hint": their_tokens["id_token"]},
            )
            assert 'data-testid="logout-confirm"' in page.text
            assert userinfo(provider, my_tokens["access_token"]).status_code == 200


class TestLogoutWithAHintThatCannotBeValidated:
    """RP-Initiated Logout 1.0 section 2: a hint the provider cannot check must not stop the
    logout; the person is asked instead, as if no hint came."""

    def test_a_hint_signed_by_a_retired_key_asks_the_person(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        retire_every_key(engine)
        page = browser.get(
            provider + LOGOUT,
            params={
                "id_token_hint": issued["id_token"],
                "post_logout_redirect_uri": department_client.post_logout_uri,
            },
            headers={"Accept": "text/html"},
        )
        assert page.status_code == 200
        assert 'data-testid="logout-confirm"' in page.text
        assert userinfo(provider, issued["access_token"]).status_code == 200  # not yet
        assert audit_log.refusals(error="invalid_request", endpoint=LOGOUT)

        form = dict(_HIDDEN.findall(page.text))
        done = browser.post(provider + LOGOUT, data={**form, "confirm": "yes"})
        assert done.status_code == 200
        # Signed out, but not sent on: nothing proved the address was this client's wish.
        assert "location" not in done.headers
        assert 'data-testid="signed-out"' in done.text
        assert userinfo(provider, issued["access_token"]).status_code == 401
        assert not portal_signed_in(browser, provider)

    def test_a_hint_that_is_no_token_at_all_asks_the_person(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        page = browser.get(provider + LOGOUT, params={"id_token_hint": "not.a.token"})
        assert page.status_code == 200
        assert 'data-testid="logout-confirm"' in page.text
        assert userinfo(provider, issued["access_token"]).status_code == 200


def retire_every_key(engine: Engine) -> None:
    """Rotate, then let the retired keys' time run out, so they leave the JWKS."""
    with unit_of_work(engine) as session:
        oidc_service.rotate_signing_key(session, OPERATOR)
        session.execute(
            update(SigningKey)
            .where(SigningKey.retired_at.is_not(None))
            .values(remove_after=utcnow() - timedelta(seconds=1))
        )


class TestPortalLogout:
    def test_signing_out_of_the_portal_ends_the_tokens_too(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        page = browser.get(f"{provider}/applications")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        browser.post(f"{provider}/logout", data={"csrf": csrf.group(1)})
        assert userinfo(provider, issued["access_token"]).status_code == 401
        assert refresh(provider, department_client, issued["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )

    def test_after_logout_the_next_authorization_asks_to_sign_in_again(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        browser.get(provider + LOGOUT, params={"id_token_hint": issued["id_token"]})
        again = browser.get(
            f"{provider}/oidc/authorize", params=Request(department_client).params()
        )
        assert again.status_code == 303
        assert query(again.headers["location"])["next"].startswith("/oidc/authorize?")
