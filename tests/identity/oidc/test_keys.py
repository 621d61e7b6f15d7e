"""Signing keys: made on first need, rotated on command, retired keys published until their
tokens expired, then gone."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tests.audit.helpers import sequenced
from tests.fixtures.db import fresh_database
from tests.fixtures.principals import OPERATOR
from tests.identity.oidc.flow import Registered, Request, key_set, tokens, verify_id_token
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.identity import service as identity_service
from tongban.identity.models import Account
from tongban.identity.oidc import keys, lifetimes
from tongban.identity.oidc import service as oidc_service
from tongban.identity.oidc.models import SigningKey
from tongban.kit.clock import utcnow

TONGBAN = Path(sys.executable).with_name("tongban")


def _header(token: str) -> dict[str, str]:
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def published_kids(provider: str) -> set[str]:
    return {k["kid"] for k in httpx.get(f"{provider}/oidc/jwks").json()["keys"]}


def rotate(engine: Engine) -> SigningKey:
    with unit_of_work(engine) as session:
        return oidc_service.rotate_signing_key(session, OPERATOR)


class TestRotation:
    def test_a_token_signed_before_rotation_still_verifies_through_the_jwks(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        before = tokens(browser, provider, Request(department_client), citizen.username)
        old_kid = _header(before["id_token"])["kid"]
        new = rotate(engine)
        assert new.kid != old_kid
        assert {old_kid, new.kid} <= published_kids(provider)
        verify_id_token(provider, before["id_token"], department_client)

        after = tokens(browser, provider, Request(department_client), citizen.username)
        assert _header(after["id_token"])["kid"] == new.kid
        verify_id_token(provider, after["id_token"], department_client)

    def test_the_retired_key_stays_until_every_token_it_signed_has_expired(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        old_kid = _header(issued["id_token"])["kid"]
        expires = verify_id_token(provider, issued["id_token"], department_client)["exp"]
        rotate(engine)
        with unit_of_work(engine) as session:
            old = session.execute(select(SigningKey).where(SigningKey.kid == old_kid)).scalar_one()
            assert old.retired_at is not None
            assert old.remove_after is not None
            assert old.remove_after.timestamp() >= expires + lifetimes.CLOCK_SKEW.total_seconds()
            assert old.private_jwk == {}  # a retired key can never sign again

    def test_the_old_key_leaves_the_jwks_after_remove_after(
        self,
        provider: str,
        browser: httpx.Client,
        engine: Engine,
        department_client: Registered,
        citizen: Account,
    ) -> None:
        issued = tokens(browser, provider, Request(department_client), citizen.username)
        old_kid = _header(issued["id_token"])["kid"]
        rotate(engine)
        assert old_kid in published_kids(provider)
        with unit_of_work(engine) as session:
            session.execute(
                update(SigningKey)
                .where(SigningKey.kid == old_kid)
                .values(remove_after=utcnow() - timedelta(seconds=1))
            )
        assert old_kid not in published_kids(provider)
        with pytest.raises((JoseError, ValueError)):
            jwt.decode(issued["id_token"], key_set(provider), algorithms=["RS256"])

    def test_jwks_keeps_at_most_the_keys_still_needed(self, engine: Engine) -> None:
        for _ in range(3):
            rotate(engine)
        with unit_of_work(engine) as session:
            later = utcnow() + lifetimes.RETIRED_KEY_KEPT + timedelta(seconds=1)
            assert len(keys.published(session, later)) == 1


class TestPolicy:
    def test_an_official_may_not_rotate_keys(self, db: Session) -> None:
        official = identity_service.get_by_username(db, "samr_officer")
        with pytest.raises(Forbidden):
            oidc_service.rotate_signing_key(db, official)

    def test_an_administrator_may_and_it_is_audited(self, engine: Engine) -> None:
        with unit_of_work(engine) as session:
            admin = identity_service.get_by_username(session, "admin")
            new = oidc_service.rotate_signing_key(session, admin)
            entry = (
                sequenced(session)
                .execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "oidc.key_rotated")
                    .order_by(AuditEntry.seq.desc())
                )
                .scalars()
                .first()
            )
            assert entry is not None
            assert entry.target_id == new.kid
            assert entry.actor == "admin"


class TestFirstKey:
    def test_a_new_deployment_makes_its_first_key_when_first_asked(self, tmp_path: Path) -> None:
        with fresh_database(tmp_path) as engine:
            with unit_of_work(engine) as session:
                assert oidc_service.list_signing_keys(session, OPERATOR) == []
                published = keys.jwks(session)
            assert len(published["keys"]) == 1
            with unit_of_work(engine) as session:
                assert keys.jwks(session) == published  # made once, not on every request
                created = (
                    sequenced(session)
                    .execute(select(AuditEntry).where(AuditEntry.action == "oidc.key_created"))
                    .scalars()
                    .all()
                )
                assert len(created) == 1


class TestCli:
    def test_oidc_keys_rotate(self, tmp_path: Path) -> None:
        with fresh_database(tmp_path) as engine:
            with unit_of_work(engine) as session:
                first = keys.current(session).kid
            env = {
                **os.environ,
                "TONGBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "COLUMNS": "200",
            }
            result = subprocess.run(
                [str(TONGBAN), "oidc", "keys", "rotate"],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            with unit_of_work(engine) as session:
                current = keys.current(session).kid
                assert current != first
                assert current in result.stdout
                assert {k["kid"] for k in keys.jwks(session)["keys"]} == {first, current}
