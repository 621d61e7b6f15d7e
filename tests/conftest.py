"""Shared fixtures: one migrated database with the demo data per test session (per xdist worker),
the app over it, API clients signed in as demo or fresh accounts, and a real Chromium."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.db import drop_templates, fresh_database, use_templates
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
_RUN_ID = pytest.StashKey[str]()
# The cheapest argon2 the library allows (a production hash costs ~0.2 s, and nearly every test
# signs someone in); tests/identity/test_password_hashing.py holds production's to its defaults.
# Set in the environment so the `tongban` processes tests start get them too.
TEST_ARGON2 = {
    "TONGBAN_ARGON2_TIME_COST": "1",
    "TONGBAN_ARGON2_MEMORY_COST": "8",
    "TONGBAN_ARGON2_PARALLELISM": "1",
}
os.environ.update(TEST_ARGON2)
get_settings.cache_clear()
# Fixtures shared by more than one folder of tests (the exchange's by its pages' tests too).
pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.exchange",
    "tests.fixtures.evidence",
]

# Folders whose tests share a costly session fixture: under xdist (`./test` runs
# --dist loadfile) each runs on one worker, so it is built once, not once per worker.
SHARED_SESSION_FOLDERS = ("tests/federation/",)  # the federation's node processes


def _template_dir(run_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"tongban-test-templates-{run_id}"


def pytest_configure(config: pytest.Config) -> None:
    # One migrated template database per run, shared by the xdist workers (tests/fixtures/db.py):
    # the controller picks the run's id and the workers get it.
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run_id = str(workerinput["testrunuid"])
    else:
        run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run_id
    config.stash[_RUN_ID] = run_id
    use_templates(_template_dir(run_id), run_id)


def pytest_unconfigure(config: pytest.Config) -> None:
    # The process that started the run (not an xdist worker) removes the template at its end.
    if not hasattr(config, "workerinput") and _RUN_ID in config.stash:
        drop_templates()
        shutil.rmtree(_template_dir(config.stash[_RUN_ID]), ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadfile, except that each SHARED_SESSION_FOLDERS folder is one unit of work.

    (--dist loadgroup would do it with marks, but pytest-xdist 3.8 cannot tag pytest 9's
    node ids with their group, so groups are silently ignored there.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = str(super()._split_scope(nodeid))
            return next((f for f in SHARED_SESSION_FOLDERS if path.startswith(f)), path)

    return Scheduling(config, log)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    os.environ["TONGBAN_DATA_DIR"] = str(path)
    # Many databases of this session share the one data dir, which a deployment never does:
    # the audit chain's checkpoints (kept in the data dir) are signed here only when a test or
    # a command asks, never after so many entries of whichever database crossed the mark.
    os.environ["TONGBAN_AUDIT_CHECKPOINT_EVERY"] = str(10**12)
    get_settings.cache_clear()
    get_calendar.cache_clear()
    return path


@pytest.fixture(scope="session")
def engine(data_dir: Path) -> Iterator[Engine]:
    with fresh_database(data_dir) as engine:
        with unit_of_work(engine) as session:
            demo.load(session)
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
            None,
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
