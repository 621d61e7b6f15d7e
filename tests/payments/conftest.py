"""A platform served over real HTTP at an address it knows (the simulated provider posts its
notifications there), and cases whose item charges a fee."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.applications.factories import application_in, create_applicant
from tests.fixtures.live import free_port, serve
from tongban.applications.states import Status
from tongban.payments import simulated
from tongban.web.app import create_app

# The ordinary passport: 120 yuan (发改价格〔2019〕914号), applied for online.
FEE_ITEM = "PSB-0004"
FEE_FEN = 12_000


def serve_platform(engine: Engine) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(create_app(engine, public_url=url), port=port):
        yield url


@pytest.fixture(scope="module")
def platform(engine: Engine) -> Iterator[str]:
    yield from serve_platform(engine)


@pytest.fixture
def provider() -> simulated.SimulatedProvider:
    return simulated.provider()


def case_with_fee(engine: Engine, status: Status = Status.APPROVED) -> tuple[str, str]:
    """A new applicant (username) and their passport case, moved to ``status``."""
    username = create_applicant(engine)
    return username, application_in(engine, applicant=username, status=status, item_code=FEE_ITEM)
