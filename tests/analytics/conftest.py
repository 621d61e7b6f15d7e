"""A database of its own for the analytics tests: the demo catalog and accounts plus a year of
generated cases (fixed seed and end, so the history is the same every run), the app over it and
the Parquet export of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, DemoCopy, totp_now
from tests.fixtures.browser import TIMEOUT_MS
from tests.fixtures.live import serve
from tests.fixtures.principals import OPERATOR
from tests.web.conftest import ARTIFACTS
from tongban.analytics import service
from tongban.applications.models import Application, CoveredItem
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.web.app import create_app

# Friday 20 November 2026, 10:00 in Linjiang: the generated history ends here.
END = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
CASES = 900
SEED = 7


@pytest.fixture(scope="session")
def analytics_engine(
    demo_copy: DemoCopy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with demo_copy(tmp_path_factory.mktemp("analytics-db")) as engine:
        with unit_of_work(engine) as session:
            service.generate_demo_cases(session, OPERATOR, cases=CASES, seed=SEED, end=END)
            cover(session, "SAMR-0001", "SAMR-0003")
        yield engine


def cover(session: Session, first: str, other: str) -> None:
    """Make every third generated case of ``first`` a bundle's department application that
    covers ``other`` too (the shop bundle's registration and food licence)."""
    own, covered = (catalog_service.get_item(session, OPERATOR, code) for code in (first, other))
    ids = session.scalars(
        select(Application.id).where(Application.item_id == own.id).order_by(Application.id)
    ).all()
    session.add_all(
        CoveredItem(application_id=i, item_id=covered.id, item_version=covered.version, position=0)
        for i in ids[::3]
    )


@pytest.fixture(scope="session")
def exported(analytics_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("analytics-store")
    with unit_of_work(analytics_engine) as session:
        service.export_events(session, OPERATOR, directory=directory)
    return directory


@pytest.fixture(scope="session")
def analytics_app(analytics_engine: Engine) -> FastAPI:
    return create_app(analytics_engine)


@pytest.fixture
def analytics_client(analytics_app: FastAPI) -> TestClient:
    return TestClient(analytics_app)


@pytest.fixture(scope="module")
def analytics_server(analytics_app: FastAPI) -> Iterator[str]:
    """The analytics app over real HTTP for one test module; yields the base URL."""
    with serve(analytics_app) as base_url:
        yield base_url


@pytest.fixture
def analytics_page(chromium: Browser, analytics_server: str) -> Iterator[Page]:
    """A Chinese-speaking visitor's page on the analytics app, in a context of its own."""
    context = chromium.new_context(
        base_url=analytics_server, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def official_login(app: FastAPI, page: Page, username: str) -> None:
    """Sign in at the pages with password and authenticator code."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/login/code"))
    code = totp_now(app.state.session_factory, username)
    assert code is not None
    page.get_by_label("身份验证器应用中的验证码").fill(code)
    page.get_by_role("button", name="确认").click()
