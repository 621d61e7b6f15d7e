"""Once-only: what the government already holds is filled in, marked with its source, and
never blocks applying when a source is down."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import PASSWORD, sign_in
from tests.connectors.conftest import LOOKUP_SYSTEM, PERSON_ID, SystemFactory
from tests.fixtures.live import free_port
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind


def citizen(engine: Engine, id_number: str = PERSON_ID) -> Account:
    """A citizen with a verified identity (ID number and phone), without a clash on the
    one-account-per-ID rule."""
    with unit_of_work(engine) as session:
        existing = session.query(Account).filter(Account.id_number == id_number).one_or_none()
        if existing is not None:
            return existing
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"c_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="李测试",
            kind=AccountKind.APPLICANT,
            id_number=id_number,
            phone="13600136000",
        )


class TestIdentityPrefill:
    def test_the_signed_in_persons_name_id_and_phone_fill_the_form(
        self, client: TestClient, engine: Engine
    ) -> None:
        person = citizen(engine, "110101199208150023")
        headers = sign_in(client, person.username)
        created = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": "SAMR-0001"}
        ).json()
        assert created["form_data"]["operator_name"] == "李测试"
        assert created["form_data"]["operator_id_number"] == "110101199208150023"
        assert created["form_data"]["operator_phone"] == "13600136000"
        assert created["prefill"]["operator_id_number"] == {
            "source": "applicant.id_number",
            "verified": True,
        }

    def test_changing_a_prefilled_value_marks_it_unverified(
        self, client: TestClient, engine: Engine
    ) -> None:
        person = citizen(engine, "110101199208150023")
        headers = sign_in(client, person.username)
        created = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": "SAMR-0001"}
        ).json()
        form = created["form_data"] | {"operator_phone": "13900139999"}
        saved = client.put(
            f"/api/v1/applications/{created['number']}/form", headers=headers, json={"form": form}
        ).json()
        assert saved["prefill"]["operator_phone"]["verified"] is False
        assert saved["prefill"]["operator_name"]["verified"] is True


class TestDepartmentLookup:
    def test_a_department_systems_data_fills_the_field_it_is_the_source_of(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        department: str,
    ) -> None:
        register_system(
            [],
            code=LOOKUP_SYSTEM,
            lookup={"url": f"{department_service}/lookup", "provides": {"address": "hjdz"}},
        )
        person = citizen(engine)
        with unit_of_work(engine) as session:
            application = applications_service.start(
                session, person, item_code=f"{department}-0001"
            )
            assert application.prefill.get("home_address"), application.prefill
            form = applications_service.disclose(session, person, application).values
            assert form["home_address"] == "临江市滨江区江滨路88号"
            assert application.prefill["home_address"]["origin"] == "测试系统"

    def test_a_source_that_is_down_leaves_the_field_for_the_applicant(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department: str,
    ) -> None:
        register_system(
            [],
            code=LOOKUP_SYSTEM,
            lookup={
                "url": f"http://127.0.0.1:{free_port()}/lookup",
                "provides": {"address": "hjdz"},
                "timeout_seconds": 1,
            },
        )
        person = citizen(engine)
        started = time.monotonic()
        with unit_of_work(engine) as session:
            application = applications_service.start(
                session, person, item_code=f"{department}-0001"
            )
        assert time.monotonic() - started < 5
        assert "home_address" not in application.sealed_form
        assert "home_address" not in application.prefill
        assert application.number

    def test_a_lookup_with_the_wrong_secret_gets_nothing(
        self,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        department: str,
    ) -> None:
        register_system(
            [],
            code=LOOKUP_SYSTEM,
            secret="q" * 40,
            lookup={"url": f"{department_service}/lookup", "provides": {"address": "hjdz"}},
        )
        person = citizen(engine)
        with unit_of_work(engine) as session:
            application = applications_service.start(
                session, person, item_code=f"{department}-0001"
            )
        assert "home_address" not in application.prefill
