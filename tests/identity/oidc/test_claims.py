"""Which claims a client receives: scopes decide the personal ones; the subject is pairwise."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.identity.oidc.conftest import new_citizen, register
from tests.identity.oidc.flow import Registered, Request, tokens, userinfo, verify_id_token
from tongban.identity import service as identity_service
from tongban.identity.models import (
    Account,
    AgentRole,
    LegalPerson,
    LegalPersonAgent,
    WebSession,
)
from tongban.identity.numbers import uscc_check_character
from tongban.identity.oidc import claims
from tongban.kit.clock import utcnow


def info(
    provider: str, browser: httpx.Client, client: Registered, who: Account, scope: str
) -> dict:
    issued = tokens(browser, provider, Request(client, scope=scope), who.username)
    response = userinfo(provider, issued["access_token"])
    assert response.status_code == 200
    return dict(response.json())


class TestScopesDecidePersonalClaims:
    def test_openid_alone_releases_nothing_personal(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        got = info(provider, browser, department_client, citizen, "openid")
        assert got["subject_type"] == "person"
        assert got["sub"]
        assert not {"name", "phone_number", "id_number", "email"} & set(got)

    def test_each_scope_releases_its_claim(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        got = info(provider, browser, department_client, citizen, "openid profile phone id_number")
        assert got["name"] == citizen.display_name
        assert got["phone_number"] == citizen.phone
        assert got["id_number"] == citizen.id_number

    def test_the_email_scope_releases_the_address_never_claimed_verified(
        self, provider: str, browser: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        client = register(engine, scopes=("openid", "profile", "email"))
        got = info(provider, browser, client, citizen, "openid profile email")
        assert got["email"] == citizen.email
        # The platform stores the address it was given and never checks it (no message with a
        # code is sent to it), so it cannot vouch for it (OIDC Core 5.1).
        assert got["email_verified"] is False
        assert not {"phone_number", "id_number"} & set(got)

    def test_without_an_address_the_email_scope_releases_nothing(
        self, provider: str, browser: httpx.Client, engine: Engine
    ) -> None:
        client = register(engine, scopes=("openid", "email"))
        who = new_citizen(engine, with_email=False)
        got = info(provider, browser, client, who, "openid email")
        assert not {"email", "email_verified"} & set(got)

    @pytest.mark.parametrize(
        ("scope", "released", "withheld"),
        [
            ("openid profile", {"name"}, {"phone_number", "id_number"}),
            ("openid phone", {"phone_number"}, {"name", "id_number"}),
            ("openid id_number", {"id_number"}, {"name", "phone_number"}),
        ],
    )
    def test_only_the_scopes_granted(
        self,
        provider: str,
        browser: httpx.Client,
        department_client: Registered,
        citizen: Account,
        scope: str,
        released: set[str],
        withheld: set[str],
    ) -> None:
        got = info(provider, browser, department_client, citizen, scope)
        assert released <= set(got)
        assert not withheld & set(got)


class TestPairwiseSubject:
    def test_two_systems_know_the_same_person_by_different_subs(
        self, provider: str, browser: httpx.Client, engine: Engine, citizen: Account
    ) -> None:
        samr, psb = register(engine), register(engine, department="PSB")
        sub_samr = info(provider, browser, samr, citizen, "openid")["sub"]
        sub_psb = info(provider, browser, psb, citizen, "openid")["sub"]
        assert sub_samr != sub_psb
        assert str(citizen.id) not in {sub_samr, sub_psb}
        assert citizen.username not in {sub_samr, sub_psb}

    def test_one_system_always_gets_the_same_sub(
        self, provider: str, browser: httpx.Client, department_client: Registered, citizen: Account
    ) -> None:
        first = tokens(browser, provider, Request(department_client), citizen.username)
        second = tokens(browser, provider, Request(department_client), citizen.username)
        subs = {
            verify_id_token(provider, t["id_token"], department_client)["sub"]
            for t in (first, second)
        }
        assert len(subs) == 1
        assert userinfo(provider, first["access_token"]).json()["sub"] in subs


class TestSubjectClaims:
    def test_an_official_carries_department_and_roles(self, db: Session) -> None:
        official = identity_service.get_by_username(db, "samr_officer")
        assert official is not None
        got = claims.id_token_claims(db, official, None, "some-client")
        assert got["subject_type"] == "official"
        assert got["department"] == "SAMR"
        assert got["roles"] == list(official.roles)

    def test_a_citizen_and_an_administrator_carry_no_department(self, db: Session) -> None:
        for username, kind in (("zhangsan", "person"), ("admin", "admin")):
            account = identity_service.get_by_username(db, username)
            assert account is not None
            got = claims.id_token_claims(db, account, None, "some-client")
            assert got["subject_type"] == kind
            assert "department" not in got
            assert "roles" not in got

    def _acting(self, db: Session, *, revoked: bool) -> tuple[Account, LegalPerson, WebSession]:
        person = identity_service.get_by_username(db, "lisi")
        assert person is not None
        first17 = "91330100" + uuid.uuid4().hex[:9].upper()  # hex digits are all in the alphabet
        company = LegalPerson(
            uscc=first17 + uscc_check_character(first17), name="杭州示例科技有限公司"
        )
        db.add(company)
        db.flush()
        now = utcnow()
        db.add(
            LegalPersonAgent(
                legal_person_id=company.id,
                account_id=person.id,
                role=AgentRole.AGENT,
                granted_at=now,
                revoked_at=now if revoked else None,
            )
        )
        db.flush()
        session_row = WebSession(
            token_hash=uuid.uuid4().hex,
            account_id=person.id,
            created_at=now,
            expires_at=now,
            acr="tongban:loa:1",
            amr=["pwd"],
            acting_for_id=company.id,
        )
        return person, company, session_row

    def test_acting_for_a_company_is_said(self, db: Session) -> None:
        person, company, session_row = self._acting(db, revoked=False)
        got = claims.userinfo_claims(db, person, session_row, "some-client", "openid")
        assert got["acting_for"] == {"uscc": company.uscc, "name": company.name}
        assert got["acr"] == "tongban:loa:1"
        assert got["amr"] == ["pwd"]

    def test_not_once_the_authorisation_was_revoked(self, db: Session) -> None:
        person, _company, session_row = self._acting(db, revoked=True)
        got = claims.userinfo_claims(db, person, session_row, "some-client", "openid")
        assert "acting_for" not in got
