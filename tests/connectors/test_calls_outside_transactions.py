"""Nothing slow inside a transaction: while a department system answers a lookup (once-only
prefill, the exchange gateway), the platform holds no database transaction open, as the
system itself sees it (PostgreSQL: no connection idle in transaction; SQLite: the write lock is
free). The calls go through one shared, pooled HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.connectors.conftest import LOOKUP_SYSTEM, SystemFactory
from tests.connectors.test_prefill import citizen
from tests.fixtures.exchange import MARRIAGE, PERSON_ID, Exchange, call
from tests.fixtures.live import serve
from tests.fixtures.transactions import Probe
from tongban.applications import service as applications_service
from tongban.audit import service as audit
from tongban.db.session import unit_of_work
from tongban.kit import http

ADDRESS = "临江市滨江区江滨路88号"


@pytest.fixture(scope="module")
def probe(engine: Engine) -> Probe:
    people = {PERSON_ID: {"hjdz": ADDRESS, "id_number": PERSON_ID, **MARRIAGE[PERSON_ID]}}
    return Probe(engine, people)


@pytest.fixture(scope="module")
def provider_service(probe: Probe) -> Iterator[str]:
    """The exchange's providing system (tests.fixtures.exchange) is the probe here."""
    with serve(probe.app()) as url:
        yield url


@pytest.fixture
def lookup_at_probe(register_system: SystemFactory, provider_service: str, probe: Probe) -> None:
    register_system(
        [],
        code=LOOKUP_SYSTEM,
        lookup={"url": f"{provider_service}/lookup", "provides": {"address": "hjdz"}},
    )
    probe.seen.clear()


@pytest.mark.usefixtures("lookup_at_probe")
class TestPrefillLookups:
    def test_a_draft_started_by_api_asks_with_no_transaction_open(
        self, client: TestClient, engine: Engine, department: str, probe: Probe
    ) -> None:
        headers = sign_in(client, citizen(engine).username)
        created = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": f"{department}-0001"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["form_data"]["home_address"] == ADDRESS
        assert probe.seen == [0]

    def test_a_use_case_that_changes_things_first_looks_up_before(
        self, engine: Engine, department: str, probe: Probe
    ) -> None:
        person = citizen(engine)
        code = f"{department}-0001"
        with unit_of_work(engine) as session:
            applications_service.look_up(session, person, item_codes=[code])
            # A change of the use case; the draft then takes the answer without asking again.
            audit.record(
                session,
                actor=person,
                action="test.changed",
                target_type="test",
                target_id=code,
                details={},
            )
            application = applications_service.start(session, person, item_code=code)
            values = applications_service.disclose(session, person, application).values
        assert values["home_address"] == ADDRESS
        assert probe.seen == [0]


class TestGateway:
    def test_the_providing_system_is_asked_with_no_transaction_open(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: dict[str, Any],
        probe: Probe,
    ) -> None:
        probe.seen.clear()
        answer = call(client, gateway, exchange, [PERSON_ID])
        assert answer.status_code == 200, answer.text
        record = answer.json()["records"][0]
        assert record["found"]
        assert record["record"]["spouse_name"]
        assert probe.seen == [0]


class TestSharedClient:
    def test_one_client_per_process_made_again_after_closing(self) -> None:
        first = http.client()
        assert http.client() is first
        http.close()
        assert first.is_closed
        second = http.client()
        assert second is not first
        assert not second.is_closed
