"""A database of its own for the analytics tests: the demo catalog and accounts plus a year of
generated cases (fixed seed and end, so the history is the same every run), the app over it and
the Parquet export of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.db import fresh_database
from tongban import demo
from tongban.analytics import service
from tongban.db.session import unit_of_work
from tongban.web.app import create_app

# Friday 20 November 2026, 10:00 in Linjiang: the generated history ends here.
END = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
CASES = 900
SEED = 7


@pytest.fixture(scope="session")
def analytics_engine(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database(tmp_path_factory.mktemp("analytics-db")) as engine:
        with unit_of_work(engine) as session:
            demo.load(session)
            service.generate_demo_cases(session, None, cases=CASES, seed=SEED, end=END)
        yield engine


@pytest.fixture(scope="session")
def exported(analytics_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("analytics-store")
    with unit_of_work(analytics_engine) as session:
        service.export_events(session, None, directory=directory)
    return directory


@pytest.fixture(scope="session")
def analytics_app(analytics_engine: Engine) -> FastAPI:
    return create_app(analytics_engine)


@pytest.fixture
def analytics_client(analytics_app: FastAPI) -> TestClient:
    return TestClient(analytics_app)
