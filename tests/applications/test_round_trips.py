"""Round trips to the database per request on the hot paths (issue 19): counted with SQLAlchemy
events on the test engine, for a request in steady state (the same request made once before,
so process caches are warm). A round trip is a statement, a COMMIT, and on PostgreSQL the BEGIN
that psycopg sends before the first statement (SQLite's BEGIN IMMEDIATE is itself a statement).

When one of these grows, a change loaded something the use case does not need, read the same
thing twice, or wrote row by row what one statement writes: the failure lists the statements.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.applications.helpers import ITEM, act, upload_required, valid_form
from tests.conftest import sign_in

# The most each request may take: start, submit and GET at the targets (start: session,
# the draft, its history row, its audit entry, BEGIN and COMMIT; the item and the catalog's
# version come from memory and the session's statement; submit and accept: the connectors
# that listen, from memory by their version). The portal home, signed out, reads the catalog's
# version only; accept is held at what it takes now, so it does not grow.
LIMITS = {"start": 6, "submit": 7, "accept": 12, "get": 4, "home": 2}


class Trips:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.statements: list[str] = []

    def statement(self, *args: Any, **_: Any) -> None:
        self.statements.append(" ".join(str(args[2]).split())[:160])

    def begin(self, *_: Any) -> None:
        if self.dialect != "sqlite":
            self.statements.append("BEGIN")

    def commit(self, *_: Any) -> None:
        self.statements.append("COMMIT")

    def check(self, name: str) -> None:
        listing = "\n".join(f"  {n}. {s}" for n, s in enumerate(self.statements, start=1))
        assert len(self.statements) <= LIMITS[name], (
            f"{name} took {len(self.statements)} round trips (at most {LIMITS[name]}):\n{listing}"
        )


@contextmanager
def counted(engine: Engine) -> Iterator[Trips]:
    trips = Trips(engine.dialect.name)
    hooks = (
        ("before_cursor_execute", trips.statement),
        ("begin", trips.begin),
        ("commit", trips.commit),
    )
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield trips
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


@pytest.fixture
def draft(client: TestClient, applicant_headers: dict[str, str]) -> str:
    """A complete draft of ``ITEM``, its materials uploaded."""
    form = valid_form(client)
    response = client.post(
        "/api/v1/applications", headers=applicant_headers, json={"item_code": ITEM, "form": form}
    )
    assert response.status_code == 201, response.text
    number = str(response.json()["number"])
    upload_required(client, applicant_headers, number)
    return number


def _start(client: TestClient, headers: dict[str, str], form: dict[str, Any]) -> str:
    response = client.post(
        "/api/v1/applications", headers=headers, json={"item_code": ITEM, "form": form}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


class TestRoundTrips:
    def test_start(
        self, client: TestClient, engine: Engine, applicant_headers: dict[str, str]
    ) -> None:
        form = valid_form(client)
        _start(client, applicant_headers, form)
        with counted(engine) as trips:
            _start(client, applicant_headers, form)
        trips.check("start")

    def test_submit(
        self,
        client: TestClient,
        engine: Engine,
        applicant_headers: dict[str, str],
        draft: str,
    ) -> None:
        form = valid_form(client)
        warm = _start(client, applicant_headers, form)
        upload_required(client, applicant_headers, warm)
        assert act(client, applicant_headers, warm, "submit").status_code == 200
        with counted(engine) as trips:
            response = act(client, applicant_headers, draft, "submit")
        assert response.status_code == 200, response.text
        trips.check("submit")

    def test_accept(
        self,
        client: TestClient,
        engine: Engine,
        applicant_headers: dict[str, str],
        draft: str,
    ) -> None:
        official = sign_in(client, "samr_officer")
        form = valid_form(client)
        warm = _start(client, applicant_headers, form)
        upload_required(client, applicant_headers, warm)
        for number in (warm, draft):
            assert act(client, applicant_headers, number, "submit").status_code == 200
        assert act(client, official, warm, "accept").status_code == 200
        with counted(engine) as trips:
            response = act(client, official, draft, "accept")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "accepted"
        trips.check("accept")

    def test_get(
        self, client: TestClient, engine: Engine, applicant_headers: dict[str, str], draft: str
    ) -> None:
        url = f"/api/v1/applications/{draft}"
        assert client.get(url, headers=applicant_headers).status_code == 200
        with counted(engine) as trips:
            response = client.get(url, headers=applicant_headers)
        assert response.status_code == 200, response.text
        assert response.json()["number"] == draft
        trips.check("get")

    def test_portal_home(self, client: TestClient, engine: Engine) -> None:
        assert client.get("/").status_code == 200
        with counted(engine) as trips:
            response = client.get("/")
        assert response.status_code == 200
        assert "SAMR-0001" in response.text or "个体工商户" in response.text
        trips.check("home")
