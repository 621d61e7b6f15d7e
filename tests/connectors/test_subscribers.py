"""Who listens to a department's events is kept in memory by the ``connectors`` version
(``db.versions``, issue 19): every change of a connector or system raises it, so a write
publishes to the connectors in force, and a delivery's bookkeeping does not throw the list away."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from tests.connectors.conftest import (
    SystemFactory,
    api_connector,
    department_of,
    submit,
)
from tongban.connectors.models import Connector, DepartmentSystem, OutboxMessage
from tongban.db import versions
from tongban.db.session import unit_of_work
from tongban.identity.models import Account
from tongban.kit.clock import utcnow


def _queued(engine: Engine, number: str) -> set[int]:
    with unit_of_work(engine) as session:
        return set(
            session.execute(
                select(OutboxMessage.connector_id).where(OutboxMessage.aggregate_id == number)
            ).scalars()
        )


def _connectors(engine: Engine, system_id: int) -> set[int]:
    with unit_of_work(engine) as session:
        return set(
            session.execute(select(Connector.id).where(Connector.system_id == system_id)).scalars()
        )


def _version(engine: Engine) -> int | None:
    with unit_of_work(engine) as session:
        return versions.current(session, "connectors")


class TestSubscribers:
    def test_a_system_registered_after_the_list_was_kept_receives_the_next_event(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        first = register_system([api_connector(department_service)])
        department = department_of(engine, first)
        assert _queued(engine, submit(engine, applicant, department)) == _connectors(engine, first)
        second = register_system([api_connector(department_service, name="second")])
        both = _connectors(engine, first) | _connectors(engine, second)
        assert _queued(engine, submit(engine, applicant, department)) == both

    def test_a_system_switched_off_by_a_bulk_update_receives_nothing_more(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        kept = register_system([api_connector(department_service)])
        dropped = register_system([api_connector(department_service, name="dropped")])
        department = department_of(engine, kept)
        submit(engine, applicant, department)  # the list is kept with both
        with unit_of_work(engine) as session:
            session.execute(
                update(DepartmentSystem).where(DepartmentSystem.id == dropped).values(active=False)
            )
        assert _queued(engine, submit(engine, applicant, department)) == _connectors(engine, kept)

    def test_a_deliverys_bookkeeping_keeps_the_version(
        self, engine: Engine, register_system: SystemFactory, department_service: str
    ) -> None:
        system = register_system([api_connector(department_service)])
        before = _version(engine)
        with unit_of_work(engine) as session:
            for connector in session.execute(
                select(Connector).where(Connector.system_id == system)
            ).scalars():
                connector.last_success_at = utcnow()
        assert _version(engine) == before
        with unit_of_work(engine) as session:
            for connector in session.execute(
                select(Connector).where(Connector.system_id == system)
            ).scalars():
                connector.events = ["application.submitted"]
        assert _version(engine) == (before or 0) + 1
