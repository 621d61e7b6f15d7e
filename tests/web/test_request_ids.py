"""A request's id: answered in X-Request-ID, and carried into the audit entries and outbox
messages its transaction wrote; inside the audit hash, with older entries verifying still."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.applications.helpers import submitted_application
from tests.audit.helpers import entries_for, sequenced
from tests.fixtures.principals import OPERATOR
from tongban.audit import chain
from tongban.audit import service as audit_service
from tongban.connectors import outbox
from tongban.connectors.models import OutboxMessage
from tongban.kit import request_ids
from tongban.kit.logs import JsonFormatter


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/api/v1/items").headers["X-Request-ID"]
    second = client.get("/api/v1/items").headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_plain_id_from_the_load_balancer_is_kept_and_a_strange_one_replaced(
    client: TestClient,
) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-0123456789abcdef"})
    assert kept.headers["X-Request-ID"] == "lb-0123456789abcdef"
    odd = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["X-Request-ID"] != "bad id\twith spaces"


def test_the_audit_entries_and_outbox_messages_of_a_request_name_it(
    client: TestClient, applicant_headers: dict[str, str], db: Session
) -> None:
    request_id = "drill-submit-000000000001"
    headers = applicant_headers | {"X-Request-ID": request_id}
    number = submitted_application(client, headers)
    entries = entries_for(db, target_type="application", target_id=number)
    submitted = [e for e in entries if e.action == "application.submit"]
    assert submitted
    assert all(e.request_id == request_id for e in submitted)


def test_an_outbox_message_names_the_request_that_queued_it(engine: Engine) -> None:
    # Rolled back at the end: a message with an empty payload must not reach other tests'
    # dispatchers.
    with Session(engine) as session:
        with request_ids.bound("outbox-000000000001"):
            queued = outbox.publish_to_target(
                session, target="notify", event_type="test.event", aggregate_id="rid-1", payload={}
            )
        untold = outbox.publish_to_target(
            session, target="notify", event_type="test.event", aggregate_id="rid-2", payload={}
        )
        session.flush()
        found = {
            m.aggregate_id: m.request_id
            for m in session.execute(
                select(OutboxMessage).where(OutboxMessage.id.in_([queued.id, untold.id]))
            ).scalars()
        }
        session.rollback()
    assert found == {"rid-1": "outbox-000000000001", "rid-2": None}


def test_the_request_id_is_inside_the_hash_and_old_entries_verify(db: Session) -> None:
    fields = {
        "seq": 1,
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "actor_id": None,
        "actor": "system",
        "action": "x",
        "target_type": "t",
        "target_id": "1",
        "details": {},
        "prev_hash": "0" * 64,
    }
    without = chain.entry_hash(suite="intl", **fields)
    # An entry from before the column: the same hash as before it existed.
    assert chain.entry_hash(suite="intl", **fields, request_id=None) == without
    assert chain.entry_hash(suite="intl", **fields, request_id="abc") != without
    with request_ids.bound("verify-000000000001"):
        audit_service.record(
            db, actor=OPERATOR, action="test.request_id", target_type="test", target_id="rid"
        )
    assert audit_service.verify(sequenced(db)).ok


def test_json_logs_carry_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("tongban.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    with request_ids.bound("log-0000000000000001"):
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x"
    assert line["request_id"] == "log-0000000000000001"
