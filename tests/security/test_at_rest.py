"""Encryption at rest as an operator runs it: rotate the master key with the CLI while the
platform runs, old records stay readable, `rewrap` moves them to the new key; tampering with a
stored ciphertext is detected; the audit chain uses the deployment's suite hash."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.audit.helpers import entries_for, sequenced
from tests.conftest import sign_in
from tests.fixtures.cli import tongban
from tests.fixtures.db import fresh_database
from tests.fixtures.principals import OPERATOR
from tests.security.test_read_paths import SECRET_DATE, file_case
from tongban.applications.models import Application
from tongban.audit import service as audit_service
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.security import deployment
from tongban.security.crypto import get_suite
from tongban.security.errors import SecurityConfigInvalid

TABLE = Application.__table__


def cli(engine: Engine, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = tongban(engine, cwd, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def stored_form(engine: Engine, number: str) -> dict[str, Any]:
    with engine.connect() as connection:
        value = connection.execute(
            select(TABLE.c.form_data).where(TABLE.c.number == number)
        ).scalar_one()
    return json.loads(value) if isinstance(value, str) else dict(value)


def key_of(form: dict[str, Any], field: str) -> str:
    return str(form[field]["sealed"].split(".")[2])


class TestKeyRotation:
    def test_rotate_then_rewrap_keeps_every_record_readable(
        self, engine: Engine, client: TestClient, tmp_path: Path
    ) -> None:
        officer = sign_in(client, "health_officer")
        old_case = file_case(engine, SECRET_DATE)
        old_key = key_of(stored_form(engine, old_case), "expected_date")

        rotated = cli(engine, tmp_path, "security", "keys", "rotate")
        # Another process rotated the ring: this one looks at the key file's stamp once a second.
        time.sleep(deployment.KEY_FILE_CHECK_SECONDS)
        new_key = deployment.key_ring().current
        assert new_key != old_key
        assert new_key in rotated.stdout
        # The running platform read the changed key file by itself: old values still read…
        form = client.get(f"/api/v1/applications/{old_case}", headers=officer).json()["form_data"]
        assert form["expected_date"] == SECRET_DATE
        # …and new values are sealed under the new key.
        new_case = file_case(engine, SECRET_DATE)
        assert key_of(stored_form(engine, new_case), "expected_date") == new_key

        rewrapped = cli(engine, tmp_path, "security", "keys", "rewrap", "--batch", "7")
        assert "moved to the current master key" in rewrapped.stdout
        after = stored_form(engine, old_case)
        assert key_of(after, "expected_date") == new_key
        assert key_of(after, "mother_id_number") == new_key
        form = client.get(f"/api/v1/applications/{old_case}", headers=officer).json()["form_data"]
        assert form["expected_date"] == SECRET_DATE
        # The old key stays in the ring: a backup restored from before the rewrap still reads.
        assert old_key in deployment.key_ring().keys

        again = cli(engine, tmp_path, "security", "keys", "rewrap")
        assert again.stdout.strip().endswith("0 value(s) moved to the current master key")

    def test_a_changed_ciphertext_is_refused(self, engine: Engine, client: TestClient) -> None:
        number = file_case(engine, SECRET_DATE)
        form = stored_form(engine, number)
        token = form["expected_date"]["sealed"]
        # Flip one character of the ciphertext part (the last part of the token).
        head, _, body = token.rpartition(".")
        form["expected_date"]["sealed"] = f"{head}.{('B' if body[0] == 'A' else 'A')}{body[1:]}"
        with engine.begin() as connection:
            connection.execute(
                TABLE.update().where(TABLE.c.number == number).values(form_data=form)
            )
        response = client.get(
            f"/api/v1/applications/{number}", headers=sign_in(client, "health_officer")
        )
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "decryption_failed"
        assert SECRET_DATE not in response.text


@pytest.fixture
def sm_suite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TONGBAN_CRYPTO_SUITE", "sm")
    get_settings.cache_clear()
    deployment.reset()
    yield
    monkeypatch.delenv("TONGBAN_CRYPTO_SUITE")
    get_settings.cache_clear()
    deployment.reset()


class TestTheAuditChainUsesTheSuiteHash:
    def test_an_sm_deployment_chains_with_sm3_and_keeps_it(
        self, tmp_path: Path, sm_suite: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with fresh_database(tmp_path) as engine:
            with unit_of_work(engine) as session:
                audit_service.record(
                    session, actor=OPERATOR, action="test.sm", target_type="t", target_id="1"
                )
                [first] = entries_for(session, target_type="t", target_id="1")
                assert len(first.hash) == 64
            with unit_of_work(engine) as session:
                assert audit_service.verify(session).ok
                from tongban.audit import chain

                assert first.hash == chain.hash_of(first, suite="sm")
                assert first.hash != chain.hash_of(first, suite="intl")
                assert get_suite("sm").hash(b"abc").hex().startswith("66c7f0f4")  # SM3 vector

            # Switching the setting later cannot re-chain the log with another hash: the entry
            # is journaled, and refused by the sequencer…
            monkeypatch.setenv("TONGBAN_CRYPTO_SUITE", "intl")
            get_settings.cache_clear()
            with unit_of_work(engine) as session:
                audit_service.record(
                    session, actor=OPERATOR, action="test.intl", target_type="t", target_id="2"
                )
                with pytest.raises(SecurityConfigInvalid):
                    sequenced(session)
            # …and the log still verifies with the hash it was made with.
            with unit_of_work(engine) as session:
                assert audit_service.verify(session).ok
