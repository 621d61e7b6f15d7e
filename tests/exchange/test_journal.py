"""The gateway's journal: a call is written to ``exchange_calls`` in its own transaction and
appended to the hash-chained audit log (and each subject's "who used my data" log) right after
it commits; a call the process did not get to sequence is sequenced by ``tongban dispatch``;
the database keeps a journaled call from being changed or deleted; concurrent sequencers append
each call once. And what the gateway keeps per process (a resource's items and labels) never
outlives a change: a raised label or clearance applies to the next call."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DBAPIError

from tests.fixtures.cli import tongban
from tests.fixtures.exchange import PERSON_ID, Exchange, call, error_code, resource_spec
from tongban.audit import checkpoints
from tongban.audit import service as audit_service
from tongban.audit.models import AuditEntry
from tongban.config import get_settings
from tongban.connectors.models import DepartmentSystem
from tongban.datause.models import Channel, DataUse
from tongban.db.session import sessions_for, unit_of_work
from tongban.exchange import journal
from tongban.exchange import service as exchange_service
from tongban.exchange.models import GatewayCall
from tongban.exchange.schemas import ResourceSpec
from tongban.security import deployment
from tongban.security import service as security_service

PURPOSE = "housing_subsidy_review"


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def entry_of(engine: Engine, call_id: int) -> tuple[GatewayCall, AuditEntry | None]:
    with unit_of_work(engine) as session:
        row = session.get_one(GatewayCall, call_id)
        entry = session.get(AuditEntry, row.audit_seq) if row.audit_seq else None
        session.expunge_all()
    return row, entry


def last_call_id(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        last = session.execute(select(GatewayCall.id).order_by(GatewayCall.id.desc())).first()
        return last[0] if last else 0


def journal_without_sequencing(engine: Engine, exchange: Exchange, count: int) -> list[int]:
    """Calls served and committed, their sequencing never run: what a process that stopped
    right after its answers leaves behind."""
    sessions = sessions_for(engine)
    for _ in range(count):
        with sessions() as session:
            system = session.execute(
                select(DepartmentSystem).where(DepartmentSystem.code == exchange.requester_system)
            ).scalar_one()
            exchange_service.query(
                session, system, resource=exchange.resource, purpose=PURPOSE, keys=[PERSON_ID]
            )
            session.commit()
    with unit_of_work(engine) as session:
        return list(
            session.execute(
                select(GatewayCall.id)
                .where(GatewayCall.audit_seq.is_(None))
                .order_by(GatewayCall.id)
            ).scalars()
        )


class TestSequencing:
    def test_a_served_call_reaches_the_audit_log_and_the_subjects_data_use(
        self,
        client: TestClient,
        exchange: Exchange,
        gateway: dict[str, str],
        granted: Any,
        engine: Engine,
    ) -> None:
        assert call(client, gateway, exchange, [PERSON_ID]).status_code == 200

        row, entry = entry_of(engine, last_call_id(engine))
        assert entry is not None, "the call was not sequenced after its answer"
        assert (entry.action, entry.target_id) == ("exchange.gateway_call", exchange.resource)
        assert entry.details["call"] == row.id
        assert entry.at == row.at
        assert entry.actor == f"system.{exchange.requester_system.lower()}"
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

    def test_a_call_whose_transaction_rolls_back_leaves_no_journal_entry(
        self, exchange: Exchange, granted: Any, engine: Engine
    ) -> None:
        before = last_call_id(engine)

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

    def test_calls_left_by_a_stopped_process_are_sequenced_by_dispatch(
        self, exchange: Exchange, granted: Any, engine: Engine, tmp_path: Path
    ) -> None:
        waiting = journal_without_sequencing(engine, exchange, 3)
        assert len(waiting) >= 3
        verify = succeeded(tongban(engine, tmp_path, "audit", "verify"))
        assert f"{len(waiting)} gateway call(s) journaled, not yet in the chain" in verify.stdout

        dispatched = succeeded(tongban(engine, tmp_path, "dispatch", "--once"))

        assert f"sequenced into the audit log: {len(waiting)}" in dispatched.stdout
        seqs = [entry_of(engine, call_id)[0].audit_seq or 0 for call_id in waiting]
        assert all(seqs)
        assert seqs == sorted(seqs), "sequenced in journal order"
        again = succeeded(tongban(engine, tmp_path, "audit", "verify"))
        assert "not yet in the chain" not in again.stdout

    def test_a_batch_crossing_a_checkpoint_mark_is_signed_once_committed(
        self,
        exchange: Exchange,
        granted: Any,
        engine: Engine,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        journal_without_sequencing(engine, exchange, 3)
        files = {
            "TONGBAN_AUDIT_CHECKPOINTS_FILE": str(tmp_path / "checkpoints.jsonl"),
            "TONGBAN_AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "checkpoint-key.json"),
            # Every append crosses a mark.
            "TONGBAN_AUDIT_CHECKPOINT_EVERY": "1",
        }
        with monkeypatch.context() as patch:
            for name, value in files.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            try:
                journal.sequence_pending(sessions_for(engine))
                latest = checkpoints.latest()
                with unit_of_work(engine) as session:
                    head = checkpoints.committed_head(session)
            finally:
                get_settings.cache_clear()
        get_settings.cache_clear()

        assert latest is not None
        assert latest.valid()
        assert (latest.size, latest.head) == head

    def test_concurrent_sequencers_append_each_call_once(
        self, exchange: Exchange, granted: Any, engine: Engine
    ) -> None:
        waiting = journal_without_sequencing(engine, exchange, 12)
        sessions = sessions_for(engine)
        start = threading.Barrier(4)

        def sequencer() -> None:
            start.wait()
            journal.sequence_pending(sessions)

        threads = [threading.Thread(target=sequencer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        with unit_of_work(engine) as session:
            entries = session.execute(
                select(AuditEntry).where(AuditEntry.action == "exchange.gateway_call")
            ).scalars()
            calls = [e.details["call"] for e in entries if e.details.get("call") in waiting]
            assert sorted(calls) == waiting
            assert journal.count_pending(session) == 0
            assert audit_service.verify(session).ok


class TestJournalIsAppendOnly:
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
            pytest.param(
                lambda call_id: (
                    update(GatewayCall).where(GatewayCall.id == call_id).values(audit_seq=1)
                ),
                id="mark-sequenced-by-hand",
            ),
        ],
    )
    def test_a_journaled_call_cannot_be_changed_or_deleted(
        self, exchange: Exchange, granted: Any, engine: Engine, change: Any
    ) -> None:
        """Unsequenced, the row is the call's only record; sequenced, it is the entry's."""
        [waiting, *_] = journal_without_sequencing(engine, exchange, 1)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(change(waiting))
        journal.sequence_pending(sessions_for(engine))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(change(waiting))


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
                    session, None, [ResourceSpec.model_validate(spec)]
                )

        def clear(clearance: str) -> None:
            with unit_of_work(engine) as session:
                security_service.set_clearance(
                    session,
                    None,
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
