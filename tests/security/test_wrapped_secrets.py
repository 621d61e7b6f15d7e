"""Secrets at rest: authenticator seeds, department systems' shared secrets and OIDC signing keys
are stored wrapped with the key ring, bound to their row; rotation and ``tongban security keys
rewrap`` keep them usable; a changed or moved token is refused; the migration wraps the
plaintext rows a deployment had before it."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from tests.fixtures.cli import tongban
from tests.fixtures.db import fresh_database
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, api_sign_in
from tongban.catalog import service as catalog_service
from tongban.connectors.models import DepartmentSystem
from tongban.connectors.schemas import SystemSpec
from tongban.db.migrate import upgrade
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.oidc import keys as oidc_keys
from tongban.identity.oidc.models import SigningKey
from tongban.integration import docking
from tongban.licences import keys as licence_keys
from tongban.security import deployment, wrapped
from tongban.security.errors import DecryptionFailed

PASSWORD = "demo-password"


def _official(engine: Engine) -> tuple[Person, int]:
    seed = pyotp.random_base32()
    with unit_of_work(engine) as session:
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=f"wrap_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="密钥测试",
            kind=AccountKind.ADMIN,
            totp_secret=seed,
        )
        return Person(account.username, account.id, seed, kind=AccountKind.ADMIN), account.id


def _system(engine: Engine, secret: str) -> str:
    code = f"SYS-{secrets.token_hex(3).upper()}"
    spec = SystemSpec.model_validate(
        {"code": code, "name": "密钥系统", "department": "HEALTH", "secret": secret}
    )
    with unit_of_work(engine) as session:
        docking.register_system(session, OPERATOR, spec)
    return code


def _raw(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def _set_raw(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def _jwk(stored: Any) -> dict[str, Any]:
    return json.loads(stored) if isinstance(stored, str) else dict(stored)


class TestNothingInPlaintext:
    def test_the_seed_the_shared_secret_and_the_signing_key_are_wrapped(
        self, engine: Engine
    ) -> None:
        person, account_id = _official(engine)
        stored = _raw(engine, "SELECT totp_secret FROM accounts WHERE id = :i", i=account_id)
        assert stored.startswith("tb1.")
        assert person.totp_secret not in stored

        shared = "s" * 24 + secrets.token_hex(8)
        code = _system(engine, shared)
        stored = _raw(engine, "SELECT secret FROM department_systems WHERE code = :c", c=code)
        assert stored.startswith("tb1.")
        assert shared not in stored

        with unit_of_work(engine) as session:
            key = oidc_keys.current(session)
            kid, private = key.kid, key.private_jwk
        stored = _jwk(
            _raw(engine, "SELECT private_jwk FROM oidc_signing_keys WHERE kid = :k", k=kid)
        )
        assert set(stored) == {"sealed"}
        assert private["d"] not in json.dumps(stored)

    def test_the_wrapped_seed_still_signs_in(self, client: TestClient, engine: Engine) -> None:
        person, _ = _official(engine)
        headers = api_sign_in(client, person)
        assert client.get("/api/v1/me", headers=headers).status_code == 200


class TestTampering:
    def test_a_changed_token_is_refused(self, engine: Engine) -> None:
        _, account_id = _official(engine)
        stored = _raw(engine, "SELECT totp_secret FROM accounts WHERE id = :i", i=account_id)
        head, _, body = stored.rpartition(".")
        changed = f"{head}.{'B' if body[0] == 'A' else 'A'}{body[1:]}"
        _set_raw(
            engine, "UPDATE accounts SET totp_secret = :t WHERE id = :i", t=changed, i=account_id
        )
        with unit_of_work(engine) as session:
            account = session.get(Account, account_id)
            assert account is not None
            with pytest.raises(DecryptionFailed):
                _ = account.totp_secret

    def test_a_token_moved_to_another_row_is_refused(self, engine: Engine) -> None:
        _, first = _official(engine)
        _, second = _official(engine)
        stored = _raw(engine, "SELECT totp_secret FROM accounts WHERE id = :i", i=first)
        _set_raw(engine, "UPDATE accounts SET totp_secret = :t WHERE id = :i", t=stored, i=second)
        with unit_of_work(engine) as session:
            account = session.get(Account, second)
            assert account is not None
            with pytest.raises(DecryptionFailed):
                _ = account.totp_secret

    def test_a_plaintext_value_put_in_the_column_is_refused(self, engine: Engine) -> None:
        shared = "p" * 40
        code = _system(engine, shared)
        _set_raw(
            engine, "UPDATE department_systems SET secret = :s WHERE code = :c", s=shared, c=code
        )
        with unit_of_work(engine) as session:
            system = session.execute(
                select(DepartmentSystem).where(DepartmentSystem.code == code)
            ).scalar_one()
            with pytest.raises(DecryptionFailed):
                _ = system.secret


class TestRotation:
    def test_rotate_then_rewrap_keeps_every_secret_usable(
        self, client: TestClient, engine: Engine, tmp_path: Path
    ) -> None:
        person, account_id = _official(engine)
        shared = "r" * 24 + secrets.token_hex(8)
        code = _system(engine, shared)
        with unit_of_work(engine) as session:
            samr = catalog_service.get_department(session, OPERATOR, "SAMR")
            licence_key_id = licence_keys.current(session, samr).key_id
        old_key = deployment.key_ring().current

        rotated = tongban(engine, tmp_path, "security", "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        # Another process rotated the ring: this one looks at the key file's stamp once a second.
        time.sleep(deployment.KEY_FILE_CHECK_SECONDS)
        new_key = deployment.key_ring().current
        assert new_key != old_key
        # Still under the old key, and still readable.
        with unit_of_work(engine) as session:
            account = session.get(Account, account_id)
            assert account is not None
            assert account.totp_secret == person.totp_secret
            assert account.totp_secret_wrapped is not None
            assert deployment.key_ring().key_id_of(account.totp_secret_wrapped) == old_key

        rewrapped = tongban(engine, tmp_path, "security", "keys", "rewrap")
        assert rewrapped.returncode == 0, rewrapped.stderr
        assert "stored secret(s) moved to the current master key" in rewrapped.stdout
        ring = deployment.key_ring()
        with unit_of_work(engine) as session:
            account = session.get(Account, account_id)
            assert account is not None
            assert account.totp_secret_wrapped is not None
            assert ring.key_id_of(account.totp_secret_wrapped) == new_key
            assert account.totp_secret == person.totp_secret
            system = session.execute(
                select(DepartmentSystem).where(DepartmentSystem.code == code)
            ).scalar_one()
            assert ring.key_id_of(system.secret_wrapped) == new_key
            assert system.secret == shared
            for key in session.execute(select(SigningKey)).scalars():
                if key.private_jwk_wrapped:
                    assert ring.key_id_of(key.private_jwk_wrapped["sealed"]) == new_key
            # A department's licence seal key moves too, and still signs.
            licence_key = licence_keys.by_key_id(session, licence_key_id)
            assert licence_key is not None
            assert ring.key_id_of(licence_key.wrapped_private_key) == new_key
            assert licence_keys.private_key(licence_key)
        # The person signs in with the same authenticator as before.
        headers = api_sign_in(client, person)
        assert client.get("/api/v1/me", headers=headers).status_code == 200


class TestRegistry:
    def test_every_model_with_a_wrapped_secret_registers_its_column(self) -> None:
        import tongban.db.models  # noqa: F401  (every model, as the CLI and the app load them)

        columns = {
            (column.model.__tablename__, column.attribute) for column in wrapped.registered()
        }

        assert columns == {
            ("accounts", "totp_secret_wrapped"),
            ("department_systems", "secret_wrapped"),
            ("oidc_signing_keys", "private_jwk_wrapped"),
            ("licence_signing_keys", "wrapped_private_key"),
            ("federation_upstream_clients", "sealed_secret"),
        }


class TestMigration:
    def test_the_migration_wraps_plaintext_rows(self, tmp_path: Path) -> None:
        seed = pyotp.random_base32()
        jwk = {"kty": "RSA", "kid": "old-kid", "d": "private-part", "n": "x", "e": "AQAB"}
        with fresh_database(tmp_path, "0010") as engine:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO departments (id, code, name_zh, name_en, address_zh, "
                        "address_en, phone, created_at) VALUES "
                        "(1, 'TST', '测试局', 'Test', '', '', '', :now)"
                    ),
                    {"now": "2026-01-01 00:00:00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO accounts (id, username, display_name, kind, password_hash, "
                        "department_id, active, totp_secret, totp_enabled, created_at) VALUES "
                        "(1, 'old', '老用户', 'official', 'x', 1, :yes, :seed, :yes, :now)"
                    ),
                    {"now": "2026-01-01 00:00:00", "yes": True, "seed": seed},
                )
                conn.execute(
                    text(
                        "INSERT INTO department_systems (id, code, name, department_id, "
                        "secret, active, created_at) VALUES "
                        "(1, 'OLD-SYS', '旧系统', 1, :secret, :yes, :now)"
                    ),
                    {"secret": "o" * 40, "yes": True, "now": "2026-01-01 00:00:00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO oidc_signing_keys (id, kid, alg, private_jwk, public_jwk, "
                        "created_at) VALUES (1, 'old-kid', 'RS256', :jwk, :pub, :now)"
                    ),
                    {"jwk": json.dumps(jwk), "pub": "{}", "now": "2026-01-01 00:00:00"},
                )
            upgrade(engine)
            with engine.connect() as conn:
                stored_seed = conn.execute(text("SELECT totp_secret FROM accounts")).scalar_one()
                stored_secret = conn.execute(
                    text("SELECT secret FROM department_systems")
                ).scalar_one()
                stored_jwk = _jwk(
                    conn.execute(text("SELECT private_jwk FROM oidc_signing_keys")).scalar_one()
                )
            assert seed not in stored_seed
            assert wrapped.unwrap(stored_seed, owner=wrapped.totp_owner("old")) == seed
            assert "o" * 40 not in stored_secret
            assert wrapped.unwrap(stored_secret, owner=wrapped.system_owner("OLD-SYS")) == "o" * 40
            assert "private-part" not in json.dumps(stored_jwk)
            opened = wrapped.unwrap(
                stored_jwk["sealed"], owner=wrapped.signing_key_owner("old-kid")
            )
            assert json.loads(opened) == jwk
