"""Every event a department must know of reaches its systems: a licence issued or revoked (the
issuing department), a master-data value changed at its authoritative source (the element's
subscribers). Each is delivered through a real database connector and masked for the receiving
system's clearance; a subscription to an event the platform never sends, or a mapping of a
field the subscribed events do not carry, is refused at registration."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from tests.conftest import sign_in
from tests.connectors.conftest import SystemFactory
from tests.connectors.test_delivery import messages_for
from tests.fixtures.principals import OPERATOR
from tests.licences.helpers import approved
from tests.resources.test_service import HEADER, _id_pair, _import, _name, _person_of, _resolve
from tongban.applications import events as applications_events
from tongban.applications.states import Status
from tongban.connectors import contracts
from tongban.connectors.errors import ConnectorFileInvalid
from tongban.connectors.kinds.database import staging_table
from tongban.db.session import unit_of_work
from tongban.integration import dispatcher, docking
from tongban.licences import events as licences_events
from tongban.resources import service as resources_service

FORM_ID_NUMBER = "330102199003071230"  # what the test form files as the operator's number


def staging(tmp_path: Path, columns: list[str]) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / f'dept-{uuid.uuid4().hex[:6]}.db'}"
    target = create_engine(url)
    staging_table("staging", columns).create(target)
    return url, target


def database_connector(url: str, events: list[str], mapping: dict[str, str]) -> dict[str, object]:
    return {
        "name": "register",
        "kind": "database",
        "config": {"url": url, "table": "staging"},
        "mapping": mapping,
        "events": events,
    }


def rows(target: Engine, columns: str) -> list[tuple[object, ...]]:
    with target.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM staging ORDER BY 1"))]


class TestLicenceEvents:
    def test_issue_and_revocation_reach_the_issuing_departments_system_masked(
        self,
        engine: Engine,
        client: TestClient,
        applicant_headers: dict[str, str],
        register_system: SystemFactory,
        tmp_path: Path,
    ) -> None:
        url, target = staging(tmp_path, ["zzbh", "zt", "czr", "sfzh", "zh"])
        system = register_system(
            [
                database_connector(
                    url,
                    ["licence.*"],
                    {
                        "number": "zzbh",
                        "status": "zt",
                        "holder.name": "czr",
                        "holder.id_number": "sfzh",
                        "fields.business_name": "zh",
                    },
                )
            ],
            department_code="SAMR",
            clearance="internal:identity",
        )
        licence = approved(client, applicant_headers)
        number = licence["number"]

        (issued,) = [m for m in messages_for(engine, system) if m.aggregate_id == number]
        assert issued.event_type == "licence.issued"
        assert issued.payload["application"] == licence["application"]
        # The holder's number is important:identity: this system is cleared below it.
        assert issued.payload["holder"]["id_number"] == "330***********1230"
        assert FORM_ID_NUMBER not in str(issued.payload)
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1

        official = sign_in(client, "samr_officer")
        response = client.post(
            f"/api/v1/licences/{number}/revoke", headers=official, json={"reason": "登记失效"}
        )
        assert response.status_code == 200, response.text
        revoked = [m for m in messages_for(engine, system) if m.aggregate_id == number][1:]
        assert [(m.event_type, m.payload["revoked_reason"]) for m in revoked] == [
            ("licence.revoked", "登记失效")
        ]
        assert dispatcher.dispatch_once(engine, systems=[system]).delivered == 1
        assert rows(target, "zt, zzbh, czr, sfzh, zh") == [
            ("revoked", number, "测试申请人", "330***********1230", "测试"),
            ("valid", number, "测试申请人", "330***********1230", "测试"),
        ]

    def test_another_departments_system_hears_nothing(
        self,
        engine: Engine,
        client: TestClient,
        applicant_headers: dict[str, str],
        register_system: SystemFactory,
        tmp_path: Path,
    ) -> None:
        url, _ = staging(tmp_path, ["zzbh"])
        system = register_system(
            [database_connector(url, ["licence.*"], {"number": "zzbh"})],
            department_code="PSB",
        )
        number = approved(client, applicant_headers)["number"]
        assert [m for m in messages_for(engine, system) if m.aggregate_id == number] == []


class TestValueChanged:
    def test_the_authoritys_change_reaches_each_subscriber_masked_for_its_clearance(
        self, engine: Engine, register_system: SystemFactory, tmp_path: Path
    ) -> None:
        mapping = {"pid": "rkid", "element": "sjx", "old_value": "jz", "new_value": "xz"}
        columns = ["rkid", "sjx", "jz", "xz"]
        # id_number (important:identity) is PSB's; HRSS and TAX subscribe to it.
        low_url, low_target = staging(tmp_path, columns)
        high_url, high_target = staging(tmp_path, columns)
        low = register_system(
            [database_connector(low_url, ["resources.value_changed"], mapping)],
            department_code="TAX",
            clearance="internal:identity",
        )
        high = register_system(
            [database_connector(high_url, ["resources.*"], mapping)], department_code="HRSS"
        )
        with unit_of_work(engine) as session:
            resources_service.load_elements(session, OPERATOR, resources_service.read_elements())
        id18, _, born = _id_pair()
        tag = uuid.uuid4().hex[:8]
        name = _name()
        _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{id18},,\n")
        _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{id18},,\n")
        _resolve(engine)
        pid = _person_of(engine, "PSB", f"p{tag}")
        assert pid is not None

        for system, target, shown in (
            (low, low_target, id18[:3] + "*" * 11 + id18[-4:]),
            (high, high_target, id18),
        ):
            mine = [m for m in messages_for(engine, system) if m.aggregate_id == pid]
            assert [m.payload["element"] for m in mine if m.payload["element"] == "id_number"] == [
                "id_number"
            ]
            # In order per person: one message of a person a round.
            while dispatcher.dispatch_once(engine, systems=[system]).delivered:
                pass
            delivered = [r for r in rows(target, "rkid, sjx, jz, xz") if r[0] == pid]
            assert (pid, "id_number", None, shown) in delivered
        assert id18 not in str(rows(low_target, "rkid, sjx, jz, xz"))


class TestRegistration:
    def test_an_event_the_platform_never_sends_is_refused(
        self, register_system: SystemFactory, tmp_path: Path
    ) -> None:
        url, _ = staging(tmp_path, ["zzbh"])
        with pytest.raises(ConnectorFileInvalid, match="licence.renewed"):
            register_system([database_connector(url, ["licence.renewed"], {"number": "zzbh"})])

    def test_a_field_the_subscribed_events_do_not_carry_is_refused(
        self, register_system: SystemFactory, tmp_path: Path
    ) -> None:
        url, _ = staging(tmp_path, ["xz"])
        # new_value is a master-data change's field, not an application's.
        with pytest.raises(ConnectorFileInvalid, match="new_value"):
            register_system([database_connector(url, ["application.*"], {"new_value": "xz"})])


class TestContracts:
    """The producers own their contracts; docking checks connectors against all of them."""

    def test_docking_knows_every_event_the_producers_send(self) -> None:
        events = set(contracts.all_events(docking.EVENT_CONTRACTS))

        assert events == {
            *(f"application.{status.value}" for status in Status),
            "licence.issued",
            "licence.revoked",
            "resources.value_changed",
            "resources.conflict_closed",
        }

    def test_the_fields_are_the_payloads_keys(self) -> None:
        fields = applications_events.CONTRACT.fields

        assert {"number", "materials", "applicant.name", "applicant.phone"} <= fields
        assert "form" not in fields  # only form.<field> of the department's items
        assert {"holder.id_number", "verify_url"} <= licences_events.CONTRACT.fields
        assert "fields" not in licences_events.CONTRACT.fields
