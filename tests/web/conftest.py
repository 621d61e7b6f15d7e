"""Browser fixtures: one live server per session, a fresh context and page per test in the
worker's Chromium (no cookies shared between tests), and screenshots into test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import totp_now
from tests.fixtures.browser import TIMEOUT_MS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

NewPage = Callable[..., Page]
TotpCode = Callable[[str], str]


@pytest.fixture
def new_page(chromium: Browser, live_server: str) -> Iterator[NewPage]:
    """Open a page in a new browser context (its own cookies: another person at another
    computer). A Chinese-speaking visitor unless told otherwise; closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(*, locale: str = "zh-CN", width: int = 1280, height: int = 900) -> Page:
        context = chromium.new_context(
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
