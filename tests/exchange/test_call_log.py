"""The gateway's call log: a call is logged in ``exchange_calls`` in its own transaction, with its
audit entry journaled (``audit.journal`` appends it to the chain) and each subject's "who used
my data" row written; a refused call is logged and audited apart; the database keeps a logged
call from being changed or deleted. And what the gateway keeps per process (a resource's items
and labels) never outlives a change: a raised label or clearance applies to the next call."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DBAPIError

from tests.audit.helpers import sequenced
from tests.fixtures.exchange import PERSON_ID, Exchange, call, error_code, resource_spec
from tests.fixtures.principals import OPERATOR
from tongban.audit import service as audit_service
from tongban.audit.models import AuditEntry, AuditJournal
from tongban.connectors.models import DepartmentSystem
from tongban.datause.models import Channel, DataUse
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.exchange.models import GatewayCall
from tongban.exchange.schemas import ResourceSpec
from tongban.security import deployment
from tongban.security import service as security_service

PURPOSE = "housing_subsidy_review"


def entry_of(engine: Engine, call_id: int) -> tuple[GatewayCall, AuditEntry | None]:
    """A logged call and its audit entry, once every journaled entry is in the chain."""
    with unit_of_work(engine) as session:
        row = session.get_one(GatewayCall, call_id)
        entries = sequenced(session).execute(
            select(AuditEntry).where(AuditEntry.action.like("exchange.gateway_%"))
        )
        found = [e for e in entries.scalars() if e.details.get("call") == call_id]
        session.expunge_all()
    assert len(found) <= 1, "one entry a call"
    return row, found[0] if found else None


def last_call_id(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        last = session.execute(select(GatewayCall.id).order_by(GatewayCall.id.desc())).first()
        return last[0] if last else 0


def served_call(engine: Engine, exchange: Exchange) -> int:
    with unit_of_work(engine) as session:
        system = session.execute(
            select(DepartmentSystem).where(DepartmentSystem.code == exchange.requester_system)
        ).scalar_one()
        exchange_service.query(
            session, system, resource=exchange.resource, purpose=PURPOSE, keys=[PERSON_ID]
        )
    return last_call_id(engine)


class TestCallLog:
    def test_a_served_call_is_audited_and_shown_to_its_subject(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        engine: Engine,
    ) -> None:
        assert call(client, gateway, exchange, [PERSON_ID]).status_code == 200
        call_id = last_call_id(engine)
        with unit_of_work(engine) as session:
            # Journaled with the call, in its transaction, before any sequencer ran.
            journaled = session.execute(select(AuditJournal.details)).scalars().all()
            assert any(details.get("call") == call_id for details in journaled)

        row, entry = entry_of(engine, call_id)
        assert entry is not None
        assert (entry.action, entry.target_id) == ("exchange.gateway_call", exchange.resource)
        assert entry.actor == f"system.{exchange.requester_system.lower()}"
        assert entry.actor_id == row.account_id
        assert entry.details["subjects"] == row.subjects
        with unit_of_work(engine) as session:
            uses = session.execute(
                select(DataUse).where(
                    DataUse.subject_ref == deployment.subject_ref(PERSON_ID),
                    DataUse.channel == Channel.GATEWAY,
                    DataUse.at == row.at,
                )
            ).scalars()
            [use] = list(uses)
            assert use.purpose_text == "核查申请人婚姻状况"
            assert (use.system_id, use.reader_id) == (row.system_id, row.account_id)
            assert audit_service.verify(session).ok

    def test_a_refused_call_is_audited_with_its_code_and_the_resource_asked_for(
        self, client: TestClient, exchange: Exchange, gateway: dict[str, str], engine: Engine
    ) -> None:
        response = client.post(
            "/api/v1/exchange/query",
            headers=gateway,
            json={"resource": "NO-SUCH-RESOURCE", "purpose": PURPOSE, "keys": [PERSON_ID]},
        )
        assert error_code(response) == "resource_not_found"

        row, entry = entry_of(engine, last_call_id(engine))
        assert row.outcome == "resource_not_found"
        assert entry is not None
        assert (entry.action, entry.target_id) == ("exchange.gateway_refused", "NO-SUCH-RESOURCE")
        assert entry.details["error"] == "resource_not_found"
        assert entry.actor == f"system.{exchange.requester_system.lower()}"

    def test_a_call_whose_transaction_rolls_back_leaves_nothing(
        self, exchange: Exchange, granted: Any, engine: Engine
    ) -> None:
        before = last_call_id(engine)
        with unit_of_work(engine) as session:
            journaled = session.execute(select(AuditJournal.id)).scalars().all()

        def call_then_fail() -> None:
            with unit_of_work(engine) as session:
                system = session.execute(
                    select(DepartmentSystem).where(
                        DepartmentSystem.code == exchange.requester_system
                    )
                ).scalar_one()
                exchange_service.query(
                    session, system, resource=exchange.resource, purpose=PURPOSE, keys=[PERSON_ID]
                )
                raise RuntimeError("the caller's transaction fails after the call")

        with pytest.raises(RuntimeError):
            call_then_fail()
        assert last_call_id(engine) == before
        with unit_of_work(engine) as session:
            assert set(session.execute(select(AuditJournal.id)).scalars()) <= set(journaled)


class TestCallLogIsAppendOnly:
    @pytest.mark.parametrize(
        "change",
        [
            pytest.param(
                lambda call_id: delete(GatewayCall).where(GatewayCall.id == call_id), id="delete"
            ),
            pytest.param(
                lambda call_id: (
                    update(GatewayCall).where(GatewayCall.id == call_id).values(subjects=[])
                ),
                id="erase-subjects",
            ),
        ],
    )
    def test_a_logged_call_cannot_be_changed_or_deleted(
        self, exchange: Exchange, granted: Any, engine: Engine, change: Any
    ) -> None:
        call_id = served_call(engine, exchange)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(change(call_id))


class TestNothingCachedOutlivesAChange:
    def test_a_raised_label_or_clearance_applies_to_the_next_call(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        engine: Engine,
    ) -> None:
        def spouse_name() -> str:
            response = call(client, gateway, exchange, [PERSON_ID], items=["spouse_name"])
            return str(response.json()["records"][0]["record"]["spouse_name"])

        def register(label: str) -> None:
            spec = resource_spec(exchange.resource, exchange.provider_system)
            spec["items"][1]["security_label"] = label
            with unit_of_work(engine) as session:
                exchange_service.register_resources(
                    session, OPERATOR, [ResourceSpec.model_validate(spec)]
                )

        def clear(clearance: str) -> None:
            with unit_of_work(engine) as session:
                security_service.set_clearance(
                    session,
                    OPERATOR,
                    username=f"system.{exchange.requester_system.lower()}",
                    clearance=clearance,
                )

        assert spouse_name() == "李测试"
        register("important:marriage")
        try:
            assert spouse_name() != "李测试"
            clear("important:identity,marriage")
            assert spouse_name() == "李测试"
        finally:
            register("internal:identity")
            clear("important:identity")
        assert spouse_name() == "李测试"
