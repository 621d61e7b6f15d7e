"""Shared fixtures: one migrated database with the demo data per test session (per xdist worker),
the app over it, API clients signed in as demo or fresh accounts, and one real Chromium."""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyotp
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.browser import CHROMIUM_ARGS
from tests.fixtures.db import DemoTemplate, demo_database, drop_pg_template, make_demo_template
from tests.fixtures.live import serve
from tests.fixtures.principals import OPERATOR
from tongban import demo
from tongban.config import Settings, get_settings
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.kit import clock, ratelimit
from tongban.kit.workdays import get_calendar
from tongban.web.app import create_app

PASSWORD = demo.DEMO_PASSWORD
# The suite signs in thousands of times from one address: every rate limit is raised out of
# its way (the ``limits`` fixture below sets low ones; tests/web/test_rate_limits.py checks
# each limited route and the production defaults).
SUITE_RATE = "1000000/minute"
REDIS_URL = os.environ.get("TONGBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
for _field in Settings.model_fields:
    if _field.startswith("limit_"):
        os.environ[f"TONGBAN_{_field.upper()}"] = SUITE_RATE
# The cheapest argon2 the library allows (a production hash costs ~0.2 s, and nearly every test
# signs someone in); tests/identity/test_password_hashing.py holds production's to its defaults.
# Set in the environment so the `tongban` processes tests start get them too.
TEST_ARGON2 = {
    "TONGBAN_ARGON2_TIME_COST": "1",
    "TONGBAN_ARGON2_MEMORY_COST": "8",
    "TONGBAN_ARGON2_PARALLELISM": "1",
}
os.environ.update(TEST_ARGON2)
# Fees are paid through the simulated provider, whose pages the app then serves.
os.environ["TONGBAN_PAYMENTS_PROVIDER"] = "simulated"
get_settings.cache_clear()
# Fixtures shared by more than one folder of tests (the exchange's by its pages' tests too).
pytest_plugins = [
    "tests.fixtures.exchange",
    "tests.fixtures.evidence",
    "tests.fixtures.materials",
]
RUN = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # One name per test run for what its xdist workers share (the demo database's template):
    # the controller chooses it and hands it to each worker.
    if not hasattr(config, "workerinput"):
        config.stash[RUN] = uuid.uuid4().hex[:12]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["tongban_run"] = node.config.stash[RUN]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # The federation's node processes are made once per worker that needs them (a minute
        # of set-up): under ./test's --dist loadgroup every test using them runs in one worker.
        if "nodes" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("federation-nodes"))
    # The slow ones first, so that none is what one worker is still running long after the
    # other ran out of tests (xdist hands tests out in this order; the sort is stable).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        drop_pg_template(session.config.stash[RUN])


def run_name(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["tongban_run"]) if workerinput else config.stash[RUN]


@pytest.fixture(scope="session")
def demo_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DemoTemplate:
    """The demo database (catalog, accounts, keys) made once per test run, for workers to copy."""
    # Set before the demo is loaded: see data_dir.
    os.environ["TONGBAN_AUDIT_CHECKPOINT_EVERY"] = str(10**12)
    # Workers' temporary directories lie in the run's; a run without xdist has only its own.
    shared = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        shared = shared.parent
    return make_demo_template(shared, run_name(request.config))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoTemplate) -> Path:
    """This worker's data dir, holding from the start the master keys the demo was loaded with,
    so every demo database of this worker, copied or loaded anew, wraps secrets with them."""
    path = tmp_path_factory.mktemp("data")
    shutil.copytree(demo_template.data, path, dirs_exist_ok=True)
    os.environ["TONGBAN_DATA_DIR"] = str(path)
    # Many databases of this session share the one data dir, which a deployment never does:
    # the audit chain's checkpoints (kept in the data dir) are signed here only when a test or
    # a command asks, never after so many entries of whichever database crossed the mark.
    os.environ["TONGBAN_AUDIT_CHECKPOINT_EVERY"] = str(10**12)
    get_settings.cache_clear()
    get_calendar.cache_clear()
    return path


DemoCopy = Callable[[Path], AbstractContextManager[Engine]]


@pytest.fixture(scope="session")
def demo_copy(demo_template: DemoTemplate, data_dir: Path) -> DemoCopy:
    """Makes a database of a test's own with the demo loaded (given a data dir for it, which
    gets the demo's keys), faster than migrating and loading anew."""
    return functools.partial(demo_database, demo_template)


@pytest.fixture(scope="session")
def engine(demo_copy: DemoCopy, data_dir: Path) -> Iterator[Engine]:
    """This worker's demo database."""
    with demo_copy(data_dir) as engine:
        yield engine


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the test, like a real request."""
    with unit_of_work(engine) as session:
        yield session


@pytest.fixture(scope="session")
def app(engine: Engine) -> FastAPI:
    return create_app(engine)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def totp_now(factory: sessionmaker[Session], username: str) -> str | None:
    """The current authenticator code of an account that has one (officials always do).

    A code is good once, but tests sign the same official in many times a minute: this forgets
    the last code used, as if the next 30-second step had come.
    """
    with factory() as session:
        account = identity_service.get_by_username(session, username)
        if account is None or not account.totp_enabled or account.totp_secret is None:
            return None
        account.totp_last_step = None
        session.commit()
        return pyotp.TOTP(account.totp_secret).at(clock.utcnow())


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    body = {"username": username, "password": password}
    code = totp_now(client.app.state.session_factory, username)  # type: ignore[attr-defined]
    if code:
        body["totp"] = code
    response = client.post("/api/v1/session", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def new_applicant(engine: Engine) -> Account:
    """A fresh applicant per test, so tests never see each other's applications."""
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"app_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="测试申请人",
            kind=AccountKind.APPLICANT,
        )


@pytest.fixture
def applicant_headers(client: TestClient, new_applicant: Account) -> dict[str, str]:
    return sign_in(client, new_applicant.username)


@pytest.fixture
def official_headers(client: TestClient) -> dict[str, str]:
    return sign_in(client, "samr_officer")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Debian's chromium is not installed; ./test installs it (apt-get install chromium)"
        )
    return path


@pytest.fixture(scope="session")
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP by uvicorn; yields the base URL."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def chromium(chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for all this worker's browser tests; each opens contexts of its own
    (Playwright's sync API allows one instance per thread, so modules cannot start their own)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


SetLimits = Callable[..., None]


@pytest.fixture(params=["memory", "redis"])
def limits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SetLimits]:
    """Counts in the process or in Redis, under a prefix of this test's own; yields a function
    setting limits by name (``sign_in_address="2/minute"``)."""
    prefix = f"tongban-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("TONGBAN_RATE_LIMIT_PREFIX", prefix)
    if request.param == "redis":
        monkeypatch.setenv("TONGBAN_REDIS_URL", REDIS_URL)
    else:
        monkeypatch.delenv("TONGBAN_REDIS_URL", raising=False)

    def set_limits(**rates: str) -> None:
        for name, rate in rates.items():
            monkeypatch.setenv(f"TONGBAN_LIMIT_{name.upper()}", rate)
        get_settings.cache_clear()

    set_limits()
    ratelimit.reset()
    yield set_limits
    monkeypatch.undo()
    get_settings.cache_clear()
    ratelimit.reset()
    if request.param == "redis":
        store = redis.Redis.from_url(REDIS_URL)
        keys = list(store.scan_iter(f"{prefix}*"))
        assert keys, "the limits were counted in Redis"
        store.delete(*keys)
