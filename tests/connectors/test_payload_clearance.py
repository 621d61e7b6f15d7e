"""A department system receives a case no further than it is cleared for.

The handling department has two systems: one cleared ``internal:identity``, one cleared for
everything. The ID number field (``important:identity``) reaches the first masked, in the queued
payload and on the wire; the second gets the case as filed. A system registered by an
administrator cannot give itself a clearance in its file."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import Engine

from tests.connectors.conftest import SystemFactory, api_connector, department_of, submit
from tests.connectors.test_delivery import messages_for
from tongban.connectors.schemas import SystemSpec
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.identity.models import Account
from tongban.integration import dispatcher, docking

ID_NUMBER = "330102199003071230"  # what ``submit`` files


class TestPayloadByClearance:
    def test_a_lower_cleared_system_gets_the_id_number_masked(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        low = register_system([api_connector(department_service)], clearance="internal:identity")
        high = register_system([api_connector(department_service, name="full")])
        department = department_of(engine, low)
        assert department_of(engine, high) == department
        number = submit(engine, applicant, department)

        (low_message,) = [m for m in messages_for(engine, low) if m.aggregate_id == number]
        (high_message,) = [m for m in messages_for(engine, high) if m.aggregate_id == number]
        assert low_message.payload["form"]["id_number"] == "330***********1230"
        assert low_message.payload["form"]["full_name"] == "李测试"
        assert ID_NUMBER not in str(low_message.payload)
        assert high_message.payload["form"]["id_number"] == ID_NUMBER
        # The applicant's own name is internal:identity: both receive it.
        assert low_message.payload["applicant"]["name"] == "李测试"
        assert high_message.payload["number"] == low_message.payload["number"] == number

    def test_what_is_delivered_is_the_masked_copy(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
    ) -> None:
        low = register_system([api_connector(department_service)], clearance="internal:identity")
        number = submit(engine, applicant, department_of(engine, low), name="钱七")
        assert dispatcher.dispatch_once(engine, systems=[low]).delivered == 1
        received = httpx.get(f"{department_service}/records/{number}").json()
        assert [r["data"] for r in received] == [
            {"sqbh": number, "xm": "钱七", "sfzh": "330***********1230", "zt": "submitted"}
        ]
        assert ID_NUMBER not in json.dumps(received, ensure_ascii=False)

    def test_an_administrator_cannot_clear_a_system_by_its_file(
        self, engine: Engine, department: str
    ) -> None:
        spec = SystemSpec.model_validate(
            {
                "code": "SYS-SELFCLEAR",
                "name": "自定密级",
                "department": department,
                "secret": "x" * 40,
                "clearance": "core",
            }
        )
        with unit_of_work(engine) as session:
            admin = session.execute(
                Account.__table__.select().where(Account.username == "admin")
            ).one()
            account = session.get(Account, admin.id)
            with pytest.raises(Forbidden):
                docking.register_system(session, account, spec)
            session.rollback()
