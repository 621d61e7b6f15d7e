"""Browser fixtures: one live server and one headless Chromium per session, a fresh context and
page per test (no cookies shared between tests), and screenshots into test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import totp_now
from tests.fixtures.live import serve

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Fail fast: a page that has not shown what we wait for in 10 s is broken, not slow.
TIMEOUT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

NewPage = Callable[..., Page]
TotpCode = Callable[[str], str]


@pytest.fixture(scope="session")
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served over real HTTP by uvicorn; yields the base URL."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[NewPage]:
    """Open a page in a new browser context (its own cookies: another person at another
    computer). A Chinese-speaking visitor unless told otherwise; closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(*, locale: str = "zh-CN", width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(
            base_url=live_server,
            locale=locale,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def totp_code(app: FastAPI) -> TotpCode:
    """The current authenticator code of an official (by username), to type in at sign-in."""

    def current(username: str) -> str:
        code = totp_now(app.state.session_factory, username)
        assert code is not None, f"{username} has no authenticator"
        return code

    return current
