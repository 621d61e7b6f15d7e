"""Events reach department systems through the outbox: by API, file and database, at least once,
in order, with retries and dead letters, and nothing sent for a change that rolled back."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select, text, update

from tests.connectors.conftest import (
    SECRET,
    SystemFactory,
    act,
    api_connector,
    department_of,
    stats,
    submit,
)
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.connectors import service as connectors_service
from tongban.connectors.kinds.database import staging_table
from tongban.connectors.models import Connector, MessageStatus, OutboxMessage
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.integration import dispatcher
from tongban.kit.clock import utcnow


def messages_for(engine: Engine, system_id: int) -> list[OutboxMessage]:
    with unit_of_work(engine) as session:
        return list(
            session.execute(
                select(OutboxMessage)
                .join(Connector, OutboxMessage.connector_id == Connector.id)
                .where(Connector.system_id == system_id)
                .order_by(OutboxMessage.id)
            ).scalars()
        )


class TestPublish:
    def test_submission_queues_one_message_per_subscribed_connector(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system(
            [
                api_connector(department_service),
                api_connector(
                    department_service,
                    name="decisions",
                    events=["application.approved", "application.denied"],
                ),
            ]
        )
        number = submit(engine, applicant, department_of(engine, system))
        queued = messages_for(engine, system)
        assert [(m.event_type, m.aggregate_id) for m in queued] == [
            ("application.submitted", number)
        ]
        assert queued[0].payload["form"]["full_name"] == "李测试"

    def test_a_rolled_back_change_queues_nothing(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        department = department_of(engine, system)
        with unit_of_work(engine) as session:
            number = applications_service.start(
                session,
                applicant,
                item_code=f"{department}-0001",
                form={"full_name": "王", "id_number": "330102199003071230"},
            ).number

        def submit_then_crash() -> None:
            with unit_of_work(engine) as session:
                applications_service.act(session, applicant, number, Action.SUBMIT)
                raise RuntimeError("crash before commit")

        with pytest.raises(RuntimeError):
            submit_then_crash()
        assert messages_for(engine, system) == []


class TestApiDelivery:
    def test_delivered_once_with_mapped_fields_and_a_valid_signature(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        before = stats(department_service)
        number = submit(engine, applicant, department_of(engine, system), name="赵六")
        report = dispatcher.dispatch_once(engine, systems=[system])
        assert report.delivered == 1
        received = httpx.get(f"{department_service}/records/{number}").json()
        assert len(received) == 1
        assert received[0]["data"] == {
            "sqbh": number,
            "xm": "赵六",
            "sfzh": "330102199003071230",
            "zt": "submitted",
        }
        assert stats(department_service)["unique"] == before["unique"] + 1
        assert messages_for(engine, system)[0].status is MessageStatus.DELIVERED

    def test_events_of_one_record_arrive_in_order(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
        official: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        number = submit(engine, applicant, department_of(engine, system))
        act(engine, official, number, Action.ACCEPT)
        act(engine, official, number, Action.START_REVIEW)
        # One message per round at most per record: the earlier one holds the later back.
        while dispatcher.dispatch_once(engine, systems=[system], limit=1).claimed:
            pass
        received = httpx.get(f"{department_service}/records/{number}").json()
        assert [r["event"] for r in received] == [
            "application.submitted",
            "application.accepted",
            "application.in_review",
        ]

    def test_unreachable_department_is_retried_with_backoff(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
    ) -> None:
        from tests.fixtures.live import free_port

        system = register_system([api_connector(f"http://127.0.0.1:{free_port()}")])
        submit(engine, applicant, department_of(engine, system))
        report = dispatcher.dispatch_once(engine, systems=[system])
        assert report.retried == 1
        [message] = messages_for(engine, system)
        assert message.status is MessageStatus.PENDING
        assert message.attempts == 1
        assert message.next_attempt_at > utcnow()
        assert "ConnectError" in message.last_error
        # Not due yet: a second round leaves it alone.
        assert dispatcher.dispatch_once(engine, systems=[system]).claimed == 0

    def test_refused_content_goes_to_dead_letters_and_can_be_retried(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        # The department knows another secret: it answers 401, which retrying cannot fix.
        system = register_system([api_connector(department_service)], secret="x" * 40)
        submit(engine, applicant, department_of(engine, system))
        assert dispatcher.dispatch_once(engine, systems=[system]).dead == 1
        [message] = messages_for(engine, system)
        with unit_of_work(engine) as session:
            dead = connectors_service.dead_letters(session, OPERATOR)
            assert message.id in [m.id for m in dead]
            health = [
                h
                for h in connectors_service.health(session, OPERATOR)
                if h.connector == "inbox" and h.dead
            ]
            assert any("401" in h.last_error for h in health)
            connectors_service.retry(session, OPERATOR, message.id)
        again = messages_for(engine, system)[0]
        assert again.status is MessageStatus.PENDING
        assert again.attempts == 0

    def test_a_crashed_dispatchers_lease_expires_and_the_receiver_drops_the_repeat(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        system = register_system([api_connector(department_service)])
        number = submit(engine, applicant, department_of(engine, system))
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1
        # Simulate a dispatcher that delivered but died before recording it.
        with unit_of_work(engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.aggregate_id == number)
                .values(status=MessageStatus.PENDING, leased_until=None)
            )
        before = stats(department_service)
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1
        after = stats(department_service)
        assert after["deliveries"] == before["deliveries"] + 1
        assert after["unique"] == before["unique"]
        assert len(httpx.get(f"{department_service}/records/{number}").json()) == 1


class TestFileDelivery:
    def test_batch_file_with_manifest_count_and_checksum(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
        tmp_path: Path,
    ) -> None:
        system = register_system(
            [
                {
                    "name": "drop",
                    "kind": "file",
                    "config": {"directory": str(tmp_path), "format": "jsonl"},
                    "mapping": {"number": "sqbh", "form.full_name": "xm"},
                    "events": ["application.submitted"],
                }
            ]
        )
        department = department_of(engine, system)
        numbers = {submit(engine, applicant, department) for _ in range(3)}
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 3
        [manifest_path] = tmp_path.glob("*.manifest.json")
        manifest = json.loads(manifest_path.read_text())
        data = (tmp_path / manifest["file"]).read_bytes()
        assert manifest["rows"] == 3
        assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert {r["sqbh"] for r in rows} == numbers
        assert not list(tmp_path.glob(".*.tmp"))


class TestDatabaseDelivery:
    def test_rows_land_in_the_staging_table_exactly_once(
        self,
        engine: Engine,
        register_system: SystemFactory,
        applicant: Account,
        tmp_path: Path,
    ) -> None:
        url = f"sqlite:///{tmp_path / 'dept.db'}"
        target = create_engine(url)
        staging_table("sq_staging", ["sqbh", "xm"]).create(target)
        system = register_system(
            [
                {
                    "name": "staging",
                    "kind": "database",
                    "config": {"url": url, "table": "sq_staging"},
                    "mapping": {"number": "sqbh", "form.full_name": "xm"},
                    "events": ["application.submitted"],
                }
            ]
        )
        number = submit(engine, applicant, department_of(engine, system), name="钱七")
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1
        # Redelivery after a lost acknowledgement: the table's key refuses the second row.
        with unit_of_work(engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.aggregate_id == number)
                .values(status=MessageStatus.PENDING)
            )
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1
        with target.connect() as conn:
            rows = conn.execute(text("SELECT sqbh, xm FROM sq_staging")).all()
        assert [tuple(r) for r in rows] == [(number, "钱七")]


class TestRegistration:
    def test_mapping_an_unknown_field_is_refused(
        self,
        register_system: SystemFactory,
        department_service: str,
    ) -> None:
        from tongban.connectors.errors import ConnectorFileInvalid

        with pytest.raises(ConnectorFileInvalid, match="form.salary"):
            register_system([api_connector(department_service, mapping={"form.salary": "gz"})])

    def test_secret_must_be_long(self) -> None:
        from pydantic import ValidationError

        from tongban.connectors.schemas import SystemSpec

        with pytest.raises(ValidationError):
            SystemSpec.model_validate(
                {
                    "code": "SYS-A",
                    "name": "x",
                    "department": "SAMR",
                    "secret": "short",
                    "connectors": [api_connector("http://127.0.0.1:1")],
                }
            )

    def test_signature_check(self) -> None:
        from tongban.connectors import signing

        body = b'{"a": 1}'
        headers = signing.signed_headers(SECRET, body, now=1_000_000)
        ts, sig = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
        assert signing.verify(SECRET, ts, body, sig, now=1_000_010)
        assert not signing.verify(SECRET, ts, body + b" ", sig, now=1_000_010)
        assert not signing.verify("y" * 40, ts, body, sig, now=1_000_010)
        assert not signing.verify(
            SECRET, ts, body, sig, now=1_000_000 + timedelta(minutes=10).total_seconds()
        )
