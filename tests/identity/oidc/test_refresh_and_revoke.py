"""Refresh tokens rotate on every use, reuse revokes the grant; revocation per RFC 7009."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, select, update

from tests.identity.oidc.conftest import AuditLog
from tests.identity.oidc.flow import Registered, Request, refresh, tokens, userinfo
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.identity.models import Account, WebSession
from tongban.identity.oidc import hashing
from tongban.identity.oidc.models import AccessToken, RefreshToken
from tongban.kit.clock import utcnow


def revoke(
    provider: str, client: Registered, token: str, hint: str | None = None
) -> httpx.Response:
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    if client.secret:
        return httpx.post(f"{provider}/oidc/revoke", data=data, auth=client.auth)
    return httpx.post(f"{provider}/oidc/revoke", data={**data, "client_id": client.client_id})


class TestRefresh:
    def test_each_refresh_returns_a_new_pair_and_retires_the_old_refresh_token(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        first = tokens(browser, provider, Request(department_client), citizen.username)
        response = refresh(provider, department_client, first["refresh_token"])
        assert response.status_code == 200, response.text
        second: dict[str, Any] = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["scope"] == first["scope"]
        assert userinfo(provider, second["access_token"]).status_code == 200
        third = refresh(provider, department_client, second["refresh_token"])
        assert third.status_code == 200

    def test_reusing_a_rotated_refresh_token_revokes_the_whole_grant(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        first = tokens(browser, provider, Request(department_client), citizen.username)
        second = refresh(provider, department_client, first["refresh_token"]).json()

        stolen = refresh(provider, department_client, first["refresh_token"])
        assert stolen.status_code == 400
        assert stolen.json()["error"] == "invalid_grant"
        # The thief's replay costs the rightful holder too: every token of the grant is dead.
        assert userinfo(provider, second["access_token"]).status_code == 401
        assert userinfo(provider, first["access_token"]).status_code == 401
        again = refresh(provider, department_client, second["refresh_token"])
        assert again.json()["error"] == "invalid_grant"
        reused = audit_log.since("oidc.refresh_token_reused")
        assert len(reused) == 1
        assert audit_log.refusals(error="invalid_grant", client_id=department_client.client_id)

    def test_another_client_cannot_use_the_refresh_token(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        public_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = refresh(provider, public_client, issued["refresh_token"])
        assert response.json()["error"] == "invalid_grant"
        # Not a reuse: the rightful client's token still works.
        assert refresh(provider, department_client, issued["refresh_token"]).status_code == 200

    def test_a_public_client_refreshes_without_a_secret(
        self, provider: str, browser: httpx.Client, public_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(public_client), citizen.username)
        assert refresh(provider, public_client, issued["refresh_token"]).status_code == 200

    def test_a_narrower_scope_may_be_asked_for_but_not_a_wider_one(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(
            browser, provider, Request(department_client, scope="openid"), citizen.username
        )
        wider = httpx.post(
            f"{provider}/oidc/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": issued["refresh_token"],
                "scope": "openid phone",
            },
            auth=department_client.auth,
        )
        assert wider.json()["error"] == "invalid_scope"


class TestRevocation:
    def test_a_revoked_access_token_is_refused_at_userinfo(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = revoke(provider, department_client, issued["access_token"], "access_token")
        assert response.status_code == 200
        refused = userinfo(provider, issued["access_token"])
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        # Only that access token: the refresh token still gets a new one.
        assert refresh(provider, department_client, issued["refresh_token"]).status_code == 200
        assert audit_log.since("oidc.token_revoked")
        assert audit_log.refusals(error="invalid_token", endpoint="/oidc/userinfo")

    def test_revoking_the_refresh_token_ends_the_grant(
        self, provider: str, browser: httpx.Client, public_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(public_client), citizen.username)
        assert revoke(provider, public_client, issued["refresh_token"]).status_code == 200
        assert refresh(provider, public_client, issued["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )
        assert userinfo(provider, issued["access_token"]).status_code == 401

    def test_an_unknown_token_is_answered_200_as_rfc_7009_asks(
        self, provider: str, department_client: Registered
    ) -> None:
        assert revoke(provider, department_client, "never-issued").status_code == 200

    def test_a_client_cannot_revoke_another_clients_token(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        public_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = revoke(provider, public_client, issued["access_token"])
        assert response.status_code == 400
        assert userinfo(provider, issued["access_token"]).status_code == 200
        assert audit_log.refusals(client_id=public_client.client_id, endpoint="/oidc/revoke")

    def test_revocation_needs_the_clients_secret(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = httpx.post(
            f"{provider}/oidc/revoke",
            data={"token": issued["access_token"]},
            auth=(department_client.client_id, "wrong"),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert userinfo(provider, issued["access_token"]).status_code == 200


class TestUserinfo:
    def test_no_token_is_a_bearer_challenge(self, provider: str, audit_log: AuditLog) -> None:
        response = httpx.get(f"{provider}/oidc/userinfo")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="tongban"'
        assert audit_log.refusals(endpoint="/oidc/userinfo")

    def test_a_made_up_token_is_invalid(self, provider: str) -> None:
        response = userinfo(provider, "made-up")
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"

    def test_a_post_may_carry_the_token_in_its_form_body(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        # RFC 6750 2.2; pyoidc, for one, sends it so by default.
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = httpx.post(
            f"{provider}/oidc/userinfo", data={"access_token": issued["access_token"]}
        )
        assert response.status_code == 200
        assert response.json()["name"] == citizen.display_name

    def test_a_token_in_the_query_is_not_taken(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        # RFC 6750 2.3 discourages it: the token would end up in logs and browser history.
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        response = httpx.get(
            f"{provider}/oidc/userinfo", params={"access_token": issued["access_token"]}
        )
        assert response.status_code == 401

    def test_a_token_sent_two_ways_at_once_is_refused(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        audit_log: AuditLog,
    ) -> None:
        # RFC 6750 2: "Clients MUST NOT use more than one method to transmit the token".
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        for data in (
            [("access_token", issued["access_token"])],
            [("access_token", issued["access_token"]), ("access_token", "x")],
        ):
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if len(data) == 1:
                headers["Authorization"] = f"Bearer {issued['access_token']}"
            response = httpx.post(
                f"{provider}/oidc/userinfo", content=urlencode(data).encode(), headers=headers
            )
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_request"
        assert len(audit_log.refusals(error="invalid_request", endpoint="/oidc/userinfo")) == 2


def web_session_of(engine: Engine, access_token: str) -> int:
    with unit_of_work(engine) as session:
        row = session.execute(
            select(AccessToken).where(AccessToken.token_hash == hashing.token_hash(access_token))
        ).scalar_one()
        assert row.session_id is not None
        return row.session_id


def age_session(engine: Engine, session_id: int, **values: object) -> None:
    with unit_of_work(engine) as session:
        session.execute(update(WebSession).where(WebSession.id == session_id).values(**values))


class TestTokensLiveWithTheSignOn:
    def test_an_idle_sign_on_ends_its_tokens(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        long_ago = utcnow() - timedelta(minutes=get_settings().session_idle_minutes + 1)
        age_session(
            engine,
            web_session_of(engine, issued["access_token"]),
            created_at=long_ago,
            last_seen_at=long_ago,
        )
        refused = userinfo(provider, issued["access_token"])
        assert refused.status_code == 401
        assert refused.json()["error_description"] == (
            "The sign-in session behind this token has ended."
        )
        assert refresh(provider, department_client, issued["refresh_token"]).json()["error"] == (
            "invalid_grant"
        )

    def test_a_sign_on_past_its_end_ends_its_tokens(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        age_session(
            engine,
            web_session_of(engine, issued["access_token"]),
            expires_at=utcnow() - timedelta(seconds=1),
        )
        assert userinfo(provider, issued["access_token"]).status_code == 401

    def test_refreshing_counts_as_being_active(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        session_id = web_session_of(engine, issued["access_token"])
        a_while_ago = utcnow() - timedelta(minutes=get_settings().session_idle_minutes - 1)
        age_session(engine, session_id, last_seen_at=a_while_ago)
        assert refresh(provider, department_client, issued["refresh_token"]).status_code == 200
        with unit_of_work(engine) as session:
            seen = session.get(WebSession, session_id)
            assert seen is not None
            assert seen.last_seen_at is not None
            assert utcnow() - seen.last_seen_at < timedelta(minutes=1)

    def test_tokens_never_outlive_the_sign_on(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        with unit_of_work(engine) as session:
            access = session.execute(
                select(AccessToken).where(
                    AccessToken.token_hash == hashing.token_hash(issued["access_token"])
                )
            ).scalar_one()
            refresh_row = session.execute(
                select(RefreshToken).where(
                    RefreshToken.token_hash == hashing.token_hash(issued["refresh_token"])
                )
            ).scalar_one()
            sign_on = session.get(WebSession, access.session_id)
            assert sign_on is not None
            assert access.expires_at <= sign_on.expires_at
            assert refresh_row.expires_at == sign_on.expires_at
