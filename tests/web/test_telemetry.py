"""FastAPI's own OpenTelemetry is off unless the deployment turns it on: otherwise every request
asks the OpenTelemetry API whether providers are set up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from sqlalchemy import Engine

from tongban.config import get_settings
from tongban.web.app import create_app


@pytest.fixture
def provider_asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    asked: list[int] = []
    real = trace.get_tracer_provider

    def counted() -> trace.TracerProvider:
        asked.append(1)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    yield asked
    get_settings.cache_clear()


def test_off_by_default_a_request_does_not_ask_for_providers(
    engine: Engine, provider_asked: list[int]
) -> None:
    client = TestClient(create_app(engine))
    assert client.get("/api/v1/departments").status_code == 200
    assert provider_asked == []


def test_turned_on_a_request_asks_for_providers(
    engine: Engine, provider_asked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGBAN_OPENTELEMETRY", "true")
    get_settings.cache_clear()
    client = TestClient(create_app(engine))
    assert client.get("/api/v1/departments").status_code == 200
    assert provider_asked
