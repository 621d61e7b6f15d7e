"""Registering relying parties: by an administrator (API) or the operator (CLI), never anyone else;
the secret is shown once and stored as a hash; redirect URIs and scopes are checked."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.audit.helpers import sequenced
from tests.conftest import DemoCopy, sign_in
from tests.fixtures.principals import OPERATOR
from tongban.audit.models import AuditEntry
from tongban.catalog.errors import DepartmentNotFound
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden, InvalidInput, NotFound
from tongban.identity import service as identity_service
from tongban.identity.oidc import hashing
from tongban.identity.oidc import service as oidc_service
from tongban.identity.oidc.models import OAuthClient

TONGBAN = Path(sys.executable).with_name("tongban")
CALLBACK = "https://licensing.samr.example.gov.cn/callback"


def name() -> str:
    return f"Licensing {uuid.uuid4().hex[:6]}"


class TestRegisterClient:
    def test_a_confidential_client_gets_a_secret_stored_only_as_a_hash(self, db: Session) -> None:
        registration = oidc_service.register_client(
            db, OPERATOR, name=name(), redirect_uris=[CALLBACK], department_code="SAMR"
        )
        client = registration.client
        assert registration.secret
        assert client.secret_hash
        assert registration.secret not in client.secret_hash
        assert hashing.check_secret(registration.secret, client.secret_hash)
        assert not hashing.check_secret(registration.secret + "x", client.secret_hash)
        assert client.scopes == ["openid", "profile"]
        assert client.department_id is not None

    def test_a_public_client_has_no_secret(self, db: Session) -> None:
        registration = oidc_service.register_client(
            db, OPERATOR, name=name(), redirect_uris=["http://127.0.0.1:5000/cb"], public=True
        )
        assert registration.secret is None
        assert registration.client.secret_hash is None

    def test_openid_is_always_allowed(self, db: Session) -> None:
        registration = oidc_service.register_client(
            db, OPERATOR, name=name(), redirect_uris=[CALLBACK], scopes=["phone"]
        )
        assert registration.client.scopes == ["openid", "phone"]

    def test_it_is_audited(self, db: Session) -> None:
        admin = identity_service.get_by_username(db, "admin")
        client = oidc_service.register_client(db, admin, name=name(), redirect_uris=[CALLBACK])
        entry = (
            sequenced(db)
            .execute(
                select(AuditEntry).where(
                    AuditEntry.action == "oidc.client_registered",
                    AuditEntry.target_id == client.client.client_id,
                )
            )
            .scalar_one()
        )
        assert entry.actor == "admin"
        assert "secret" not in str(entry.details).lower()

    @pytest.mark.parametrize(
        "uri",
        [
            "http://licensing.samr.example.gov.cn/callback",  # plain http, not this machine
            "https://licensing.samr.example.gov.cn/callback#top",  # a fragment
            "/callback",  # relative
            "licensing.samr.example.gov.cn/callback",
            "javascript:alert(1)",
            "https://licensing.samr.example.gov.cn/call\x00back",
            "https://licensing.samr.example.gov.cn/call back",
        ],
    )
    def test_unsafe_redirect_uris_are_refused(self, db: Session, uri: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            oidc_service.register_client(db, OPERATOR, name=name(), redirect_uris=[uri])
        assert caught.value.field == "redirect_uris"

    def test_a_name_with_control_characters_is_refused(self, db: Session) -> None:
        with pytest.raises(InvalidInput):
            oidc_service.register_client(db, OPERATOR, name="Bad\x00name", redirect_uris=[CALLBACK])

    def test_loopback_http_is_allowed_for_development(self, db: Session) -> None:
        for uri in ("http://127.0.0.1:8001/cb", "http://localhost:8001/cb", "http://[::1]/cb"):
            oidc_service.register_client(db, OPERATOR, name=name(), redirect_uris=[uri])

    def test_an_unknown_scope_is_refused(self, db: Session) -> None:
        # An administrator's typo is pointed out; only a client's request ignores unknown scopes.
        with pytest.raises(InvalidInput) as caught:
            oidc_service.register_client(
                db, OPERATOR, name=name(), redirect_uris=[CALLBACK], scopes=["openid", "e-mail"]
            )
        assert caught.value.field == "scopes"

    def test_the_email_scope_may_be_allowed(self, db: Session) -> None:
        registration = oidc_service.register_client(
            db, OPERATOR, name=name(), redirect_uris=[CALLBACK], scopes=["openid", "email"]
        )
        assert registration.client.scopes == ["openid", "email"]

    def test_an_unknown_department_is_refused(self, db: Session) -> None:
        with pytest.raises(DepartmentNotFound):
            oidc_service.register_client(
                db, OPERATOR, name=name(), redirect_uris=[CALLBACK], department_code="NOPE"
            )

    @pytest.mark.parametrize("username", ["samr_officer", "zhangsan"])
    def test_only_an_administrator_may(self, db: Session, username: str) -> None:
        someone = identity_service.get_by_username(db, username)
        with pytest.raises(Forbidden):
            oidc_service.register_client(db, someone, name=name(), redirect_uris=[CALLBACK])
        with pytest.raises(Forbidden):
            oidc_service.list_clients(db, someone)


class TestDeactivate:
    def test_an_unknown_client_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound):
            oidc_service.deactivate_client(db, OPERATOR, "no-such-client")


class TestApi:
    def test_an_administrator_registers_a_client_and_sees_the_secret_once(
        self, client: TestClient
    ) -> None:
        headers = sign_in(client, "admin")
        body = {
            "name": name(),
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": ["https://licensing.samr.example.gov.cn/bye"],
            "scopes": ["openid", "profile", "phone"],
            "department": "SAMR",
        }
        created = client.post("/api/v1/oidc/clients", json=body, headers=headers)
        assert created.status_code == 201, created.text
        registered = created.json()
        assert registered["client_secret"]
        assert registered["public"] is False
        listed = client.get("/api/v1/oidc/clients", headers=headers).json()
        mine = next(c for c in listed if c["client_id"] == registered["client_id"])
        assert "client_secret" not in mine
        assert mine["scopes"] == ["openid", "profile", "phone"]

    def test_bad_input_names_the_field(self, client: TestClient) -> None:
        headers = sign_in(client, "admin")
        response = client.post(
            "/api/v1/oidc/clients",
            json={"name": name(), "redirect_uris": ["http://evil.example/cb"]},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "redirect_uris"

    def test_a_citizen_is_forbidden(self, client: TestClient) -> None:
        headers = sign_in(client, "zhangsan")
        response = client.post(
            "/api/v1/oidc/clients",
            json={"name": name(), "redirect_uris": [CALLBACK]},
            headers=headers,
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_signing_in_is_required(self, client: TestClient) -> None:
        assert client.get("/api/v1/oidc/clients").status_code == 401


class TestCli:
    def test_clients_create_prints_the_client_id_and_secret(
        self, tmp_path: Path, demo_copy: DemoCopy
    ) -> None:
        with demo_copy(tmp_path) as engine:
            env = {
                **os.environ,
                "TONGBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "COLUMNS": "200",
            }
            result = subprocess.run(
                [
                    str(TONGBAN),
                    "oidc",
                    "clients",
                    "create",
                    "Market licensing",
                    "--redirect-uri",
                    CALLBACK,
                    "--scope",
                    "profile",
                    "--scope",
                    "phone",
                    "--department",
                    "SAMR",
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
            client_id = lines["client_id"].strip()
            secret = lines["client_secret"].strip()
            with unit_of_work(engine) as session:
                row = session.execute(
                    select(OAuthClient).where(OAuthClient.client_id == client_id)
                ).scalar_one()
                assert row.scopes == ["openid", "profile", "phone"]
                assert hashing.check_secret(secret, row.secret_hash)

            bad = subprocess.run(
                [str(TONGBAN), "oidc", "clients", "create", "X", "--redirect-uri", "http://x/cb"],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                check=False,
            )
            assert bad.returncode == 1
            assert "https" in bad.stdout
