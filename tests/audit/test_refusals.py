"""Refusals are kept as security events: who, what and why, for each kind of refusal an attacker
meets (a cross-user 404, another department's case and search, a role refusal, a filter by a
hidden field, a missing CSRF token, a citizen on an administrator's API, a bogus token); a flood
of them is counted per client, kind and minute; and keeping them takes no lock of the audit
chain, so an attack does not slow honest writes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from tests.audit.helpers import sequenced
from tests.conftest import SetLimits, sign_in
from tests.fixtures.db import backend
from tests.identity.factories import new_citizen, new_official
from tests.identity.test_pages import signed_in
from tests.security.test_read_paths import ITEM as HEALTH_ITEM
from tests.security.test_read_paths import file_case
from tongban.audit.models import AuditEntry, SecurityEvent
from tongban.db.session import unit_of_work

Client = Callable[[], TestClient]


@pytest.fixture
def address() -> str:
    """A client address of this test's own, so its events are told apart."""
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def from_address(app: FastAPI, address: str) -> Client:
    return lambda: TestClient(app, client=(address, 50000), follow_redirects=False)


def events(engine: Engine, address: str) -> list[SecurityEvent]:
    with unit_of_work(engine) as session:
        found = session.scalars(
            select(SecurityEvent).where(SecurityEvent.client == address).order_by(SecurityEvent.id)
        ).all()
        session.expunge_all()
        return list(found)


def only_event(engine: Engine, address: str) -> SecurityEvent:
    (event,) = events(engine, address)
    return event


class TestEachRefusalIsKept:
    def test_another_citizens_application(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        client = from_address()
        owner = sign_in(client, new_citizen(engine).username)
        number = client.post(
            "/api/v1/applications", headers=owner, json={"item_code": "SAMR-0001", "form": {}}
        ).json()["number"]
        intruder = new_citizen(engine)
        response = client.get(
            f"/api/v1/applications/{number}", headers=sign_in(client, intruder.username)
        )
        assert response.status_code == 404
        event = only_event(engine, address)
        assert (event.kind, event.status, event.account_id) == ("not_found", 404, intruder.id)
        assert (event.method, event.path) == ("GET", f"/api/v1/applications/{number}")
        assert event.code == "application_not_found"

    def test_another_departments_case_and_search(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        client = from_address()
        number = file_case(engine, "2027-01-02")
        psb = sign_in(client, "psb_officer")
        assert client.get(f"/api/v1/applications/{number}", headers=psb).status_code == 404
        searched = client.get("/api/v1/cases", params={"item": HEALTH_ITEM}, headers=psb)
        assert searched.status_code == 404
        kept = events(engine, address)
        assert [(e.kind, e.path) for e in kept] == [
            ("not_found", f"/api/v1/applications/{number}"),
            ("not_found", "/api/v1/cases"),
        ]
        assert {e.account_id for e in kept} == {kept[0].account_id}
        assert kept[0].account_id is not None

    def test_a_role_refusal(self, engine: Engine, from_address: Client, address: str) -> None:
        client = from_address()
        number = file_case(engine, "2027-01-03")
        clerk = new_official(engine, department="HEALTH", roles=("clerk",))
        response = client.post(
            f"/api/v1/applications/{number}/actions",
            headers=sign_in(client, clerk.username),
            json={"action": "approve"},
        )
        assert response.status_code == 403
        event = only_event(engine, address)
        assert (event.kind, event.account_id, event.method) == ("forbidden", clerk.id, "POST")

    def test_a_filter_by_a_hidden_field(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        client = from_address()
        official = new_official(engine, department="HEALTH")
        response = client.get(
            "/api/v1/cases",
            params={"item": HEALTH_ITEM, "filter": "mother_id_number:110101199003076421"},
            headers=sign_in(client, official.username),
        )
        assert response.status_code == 422
        event = only_event(engine, address)
        assert (event.kind, event.code) == ("hidden_field", "field_not_usable")
        # The event says what was refused, never the value sought.
        assert "110101199003076421" not in event.path

    def test_a_form_without_its_csrf_token(self, engine: Engine, app: FastAPI) -> None:
        official = new_official(engine)
        pages = signed_in(app, official)
        response = pages.post("/licences-issued/NONE/revoke", data={"reason": "x"})
        assert response.status_code == 403
        kept = [e for e in events(engine, "testclient") if e.path == "/licences-issued/NONE/revoke"]
        assert [(e.kind, e.account_id) for e in kept][-1] == ("forbidden", official.id)

    def test_a_citizen_on_an_administrators_api(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        client = from_address()
        citizen = new_citizen(engine)
        response = client.get("/api/v1/security/changes", headers=sign_in(client, citizen.username))
        assert response.status_code == 403
        event = only_event(engine, address)
        assert (event.kind, event.account_id) == ("forbidden", citizen.id)

    def test_a_bogus_bearer_token(self, engine: Engine, from_address: Client, address: str) -> None:
        response = from_address().get(
            "/api/v1/me", headers={"Authorization": "Bearer not-a-real-token"}
        )
        assert response.status_code == 401
        event = only_event(engine, address)
        assert (event.kind, event.account_id, event.path) == (
            "unauthenticated",
            None,
            "/api/v1/me",
        )

    def test_a_mistake_in_a_form_is_not_a_security_event(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        client = from_address()
        headers = sign_in(client, new_citizen(engine).username)
        response = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": "SAMR-0001", "form": 5}
        )
        assert response.status_code == 422
        assert events(engine, address) == []


class TestFloods:
    def test_a_flood_is_counted_in_one_row_a_minute(
        self, engine: Engine, from_address: Client, address: str, limits: SetLimits
    ) -> None:
        limits(security_events="5/minute")
        client = from_address()
        for _ in range(25):
            bogus = {"Authorization": "Bearer not-a-real-token"}
            assert client.get("/api/v1/me", headers=bogus).status_code == 401
        kept = events(engine, address)
        single = [e for e in kept if e.flood_key is None]
        flooded = [e for e in kept if e.flood_key is not None]
        assert len(single) == 5
        # One row a minute (two if the minute turned during the loop), counting the rest.
        assert 1 <= len(flooded) <= 2
        assert sum(e.count for e in flooded) == 20
        assert all(e.kind == "unauthenticated" for e in kept)

    def test_security_administrators_read_them(
        self, client: TestClient, engine: Engine, from_address: Client, address: str
    ) -> None:
        from_address().get("/api/v1/me", headers={"Authorization": "Bearer junk"})
        secadmin = sign_in(client, "secadmin_a")
        listed = client.get("/api/v1/security/events", params={"client": address}, headers=secadmin)
        assert listed.status_code == 200, listed.text
        assert [(e["kind"], e["path"]) for e in listed.json()] == [
            ("unauthenticated", "/api/v1/me")
        ]
        citizen = sign_in(client, new_citizen(engine).username)
        assert client.get("/api/v1/security/events", headers=citizen).status_code == 403


class TestNoSharedLock:
    def test_a_refusal_writes_nothing_to_the_audit_chain(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        def chain_size() -> int:
            with unit_of_work(engine) as session:
                chain = sequenced(session)
                return int(chain.scalar(select(func.count()).select_from(AuditEntry)) or 0)

        before = chain_size()
        from_address().get("/api/v1/me", headers={"Authorization": "Bearer junk"})
        assert len(events(engine, address)) == 1
        assert chain_size() == before

    @pytest.mark.skipif(backend() != "postgresql", reason="SQLite has one writer at a time")
    def test_refusals_are_kept_while_the_chain_head_is_held(
        self, engine: Engine, from_address: Client, address: str
    ) -> None:
        """A sequencer holds the chain's head (as it does while it appends a batch); refusals
        are answered and kept meanwhile, not queued behind it."""
        held = threading.Event()
        release = threading.Event()

        def hold_head() -> None:
            with engine.begin() as connection:
                connection.execute(text("SELECT seq FROM audit_head FOR UPDATE"))
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold_head)
        holder.start()
        try:
            assert held.wait(10)
            started = time.monotonic()
            response = from_address().get("/api/v1/me", headers={"Authorization": "Bearer junk"})
            took = time.monotonic() - started
            assert response.status_code == 401
            assert len(events(engine, address)) == 1
            assert took < 5, f"the refusal waited {took:.1f} s on the chain"
        finally:
            release.set()
            holder.join()
