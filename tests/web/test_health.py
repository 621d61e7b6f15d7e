"""/healthz, /readyz and /metrics (for allowed addresses or the token only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from tests.fixtures.principals import OPERATOR
from tongban.config import get_settings
from tongban.web.app import create_app


@pytest.fixture
def local(app: FastAPI) -> TestClient:
    """A client at 127.0.0.1, an address /metrics answers by default."""
    return TestClient(app, client=("127.0.0.1", 50000))


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_ready_when_the_database_answers_at_head(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"] == "at head"


def test_not_ready_when_a_backlog_passes_its_threshold(
    client: TestClient, settings_env: pytest.MonkeyPatch, engine: Engine
) -> None:
    from tongban.audit import service as audit_service
    from tongban.db.session import unit_of_work

    with unit_of_work(engine) as session:
        audit_service.record(
            session, actor=OPERATOR, action="test.backlog", target_type="test", target_id="1"
        )
    settings_env.setenv("TONGBAN_READY_MAX_JOURNAL", "0")
    get_settings.cache_clear()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["audit_journal"] >= 1


def test_not_ready_when_the_database_is_away() -> None:
    away = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    answer = TestClient(create_app(away)).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"database": "unreachable"}
    assert TestClient(create_app(away)).get("/healthz").status_code == 200


def test_metrics_name_routes_by_template_and_the_backlogs(
    local: TestClient, client: TestClient
) -> None:
    client.get("/api/v1/items/SAMR-0001")
    text = local.get("/metrics").text
    assert 'route="/api/v1/items/{code}"' in text
    assert "/api/v1/items/SAMR-0001" not in text
    for name in (
        "tongban_http_request_duration_seconds_bucket",
        "tongban_http_in_flight",
        "tongban_db_pool_checked_out",
        "tongban_outbox_due",
        "tongban_outbox_dead",
        "tongban_audit_journal_backlog",
        "tongban_notifications_waiting",
    ):
        assert name in text, name


def test_metrics_are_hidden_from_the_public(
    client: TestClient, app: FastAPI, settings_env: pytest.MonkeyPatch
) -> None:
    outsider = TestClient(app, client=("203.0.113.9", 50000))
    assert outsider.get("/metrics").status_code == 404
    settings_env.setenv("TONGBAN_METRICS_TOKEN", "s3cret-token")
    get_settings.cache_clear()
    assert outsider.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    answer = outsider.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200
    assert "tongban_http_shed_total" in answer.text or "tongban_http" in answer.text
