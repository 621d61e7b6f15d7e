"""What a refused request leaves is written apart from its transaction (``db.session``):
it stays when the transaction rolls back, and is written once when it commits."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.audit.helpers import entries_for
from tests.fixtures.principals import OPERATOR
from tongban.audit import service as audit_service
from tongban.db.session import record_apart, unit_of_work


class Refused(Exception):
    pass


def journal(session: Session, action: str, tag: str) -> None:
    audit_service.record(session, actor=OPERATOR, action=action, target_type="test", target_id=tag)


def actions(engine: Engine, tag: str) -> list[str]:
    with unit_of_work(engine) as session:
        return [e.action for e in entries_for(session, target_type="test", target_id=tag)]


def refused_work(engine: Engine, tag: str) -> None:
    with unit_of_work(engine) as session:
        journal(session, "test.undone", tag)
        record_apart(session, lambda other: journal(other, "test.kept", tag))
        raise Refused


class TestRecordApart:
    def test_the_record_survives_the_rollback_of_its_transaction(self, engine: Engine) -> None:
        tag = uuid.uuid4().hex
        with pytest.raises(Refused):
            refused_work(engine, tag)

        assert actions(engine, tag) == ["test.kept"]

    def test_it_is_written_once_when_the_transaction_commits(self, engine: Engine) -> None:
        tag = uuid.uuid4().hex
        with unit_of_work(engine) as session:
            journal(session, "test.done", tag)
            record_apart(session, lambda other: journal(other, "test.kept", tag))

        assert sorted(actions(engine, tag)) == ["test.done", "test.kept"]

    def test_nothing_is_written_before_the_transaction_ends(self, engine: Engine) -> None:
        tag = uuid.uuid4().hex
        with unit_of_work(engine) as session:
            record_apart(session, lambda other: journal(other, "test.kept", tag))
            assert actions(engine, tag) == []
        assert actions(engine, tag) == ["test.kept"]
