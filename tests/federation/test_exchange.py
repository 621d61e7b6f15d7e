"""Part 6: a city department asks for a national department's data resource through the
federated exchange: the request travels signed to the national node, its approver decides there,
the grant is mirrored at the city; the city system calls its own node's gateway, which forwards
the call signed to the national gateway, which checks the grant, masks for the city system's
clearance and audits; the city audits too."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from examples.department_service.app import create_app as create_department_app
from tests.federation.conftest import CITY, NATIONAL, item, load
from tests.federation.test_applications import account
from tests.fixtures.exchange import MARRIAGE, OTHER_ID, PERSON_ID, SECRET, resource_spec
from tests.fixtures.live import serve
from tests.fixtures.nodes import NodeProcess, wait_until
from tongban.audit.models import AuditEntry
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.exchange.schemas import ResourceSpec, SharingRequestIn
from tongban.federation.exchange import service as data_exchange
from tongban.federation.models import FederatedDataRequest, ProvidedDataRequest
from tongban.identity.models import Account, AccountKind
from tongban.security import service as security_service

PURPOSE = "housing_subsidy_review"


@dataclass(frozen=True)
class Setup:
    resource: str
    requester: str
    client_id: str
    client_secret: str
    approver_id: int


@pytest.fixture(scope="module")
def marriage_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The national civil affairs department's own system, answering lookups."""
    db = tmp_path_factory.mktemp("mca-national") / "mca.db"
    people = {k: {**v, "id_number": k} for k, v in MARRIAGE.items()}
    with serve(create_department_app(secret=SECRET, db_path=str(db), people=people)) as url:
        yield url


@pytest.fixture(scope="module")
def setup(
    nodes: dict[str, NodeProcess],
    marriage_service: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Setup:
    national, city = nodes[NATIONAL], nodes[CITY]
    where = tmp_path_factory.mktemp("exchange")
    load(national, where, ("MCA", "民政部"), [item("MCA-0001", "MCA", "婚姻登记")])
    load(city, where, ("HOUSING", "杭州市住房保障局"), [item("HOUSING-0001", "HOUSING", "公租房")])
    provider = node_system(
        national,
        where,
        "MCA",
        lookup={"url": f"{marriage_service}/lookup", "provides": {"spouse_name": "nfxm"}},
    )
    code = f"MCA-MARRIAGE{secrets.token_hex(2).upper()}"
    with unit_of_work(national.engine) as session:
        exchange_service.register_resources(
            session, None, [ResourceSpec.model_validate(resource_spec(code, provider))]
        )
    approver = account(
        national,
        display_name="民政部审批员",
        kind=AccountKind.OFFICIAL,
        department="MCA",
        roles=["approver"],
    )
    requester = node_system(city, where, "HOUSING")
    with unit_of_work(city.engine) as session:
        registration = exchange_service.issue_credentials(session, None, system_code=requester)
        assert registration.secret
        client_id, client_secret = registration.client.client_id, registration.secret
    return Setup(code, requester, client_id, client_secret, approver.id)


def node_system(
    node: NodeProcess, where: Path, department: str, *, lookup: dict[str, Any] | None = None
) -> str:
    """A department system registered by the node's own command: its shared secret is wrapped
    with that node's key ring, which this test process does not hold."""
    code = f"{department}-{secrets.token_hex(3).upper()}"
    spec = {
        "code": code,
        "name": f"{department} 业务系统",
        "department": department,
        "secret": SECRET,
        "connectors": [],
    }
    if lookup:
        spec["lookup"] = lookup
    path = where / f"{code}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    node.cli("connectors", "load", str(path))
    return code


def token(city: NodeProcess, setup: Setup) -> dict[str, str]:
    basic = base64.b64encode(f"{setup.client_id}:{setup.client_secret}".encode()).decode()
    answer = httpx.post(
        city.url + "/oidc/token",
        data={"grant_type": "client_credentials", "scope": "exchange"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def mirrored(city: NodeProcess, ref: str) -> FederatedDataRequest:
    with unit_of_work(city.engine) as session:
        row = session.execute(
            select(FederatedDataRequest).where(FederatedDataRequest.ref == ref)
        ).scalar_one()
        session.expunge(row)
        return row


def audit_rows(node: NodeProcess, action: str, **details: Any) -> list[dict[str, Any]]:
    with unit_of_work(node.engine) as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()
        return [
            dict(r.details)
            for r in rows
            if all((r.details or {}).get(k) == v for k, v in details.items())
        ]


def call(city: NodeProcess, headers: dict[str, str], setup: Setup, **extra: Any) -> httpx.Response:
    return httpx.post(
        city.url + "/api/v1/federation/exchange/call",
        headers=headers,
        json={
            "node": NATIONAL,
            "resource": setup.resource,
            "purpose": PURPOSE,
            "keys": [PERSON_ID],
            **extra,
        },
        timeout=30,
    )


def test_a_city_system_reads_a_national_resource_through_both_gateways(
    nodes: dict[str, NodeProcess], setup: Setup
) -> None:
    national, city = nodes[NATIONAL], nodes[CITY]
    with unit_of_work(city.engine) as session:
        ref = data_exchange.request_data(
            session,
            None,
            node=NATIONAL,
            body=SharingRequestIn(
                resource=setup.resource,
                system=setup.requester,
                items=["id_number", "spouse_name", "registered_on"],
                purpose=PURPOSE,
                purpose_text="核查公租房申请人婚姻状况",
                legal_basis="《公共租赁住房管理办法》第七条",
                days=30,
            ),
        ).ref
    # At the national node it is an ordinary sharing request, waiting for the approver.
    wait_until(lambda: mirrored(city, ref).status == "pending", what="the request to arrive")
    assert set(mirrored(city, ref).granted_items) == {"id_number", "spouse_name"}
    proxy_username = f"system.n{CITY}-{setup.requester.lower()}"
    with unit_of_work(national.engine) as session:
        link = session.execute(
            select(ProvidedDataRequest).where(ProvidedDataRequest.ref == ref)
        ).scalar_one()
        request_id = link.request_id
        # The national node clears the city's system for identity data, not marriage data.
        security_service.set_clearance(
            session, None, username=proxy_username, clearance="important:identity"
        )
    with unit_of_work(national.engine) as session:
        approver = session.get(Account, setup.approver_id)
        exchange_service.decide_request(session, approver, request_id, approve=True)
    wait_until(lambda: mirrored(city, ref).status == "granted", what="the decision to come back")
    mirror = mirrored(city, ref)
    assert set(mirror.granted_items) == {"id_number", "spouse_name", "registered_on"}
    assert mirror.expires_at is not None

    headers = token(city, setup)
    answer = call(city, headers, setup, keys=[PERSON_ID, OTHER_ID])
    assert answer.status_code == 200, answer.text
    record, missing = answer.json()["records"]
    assert record["found"] is True
    assert record["error"] is None
    # The per-key code comes through both gateways.
    assert missing == {"key": OTHER_ID, "found": False, "record": None, "error": "unknown_key"}
    values = record["record"]
    assert values["spouse_name"] == "李测试"  # internal:identity: readable
    assert values["registered_on"] != "2020-05-20"  # important:marriage: masked
    assert values["registered_on"]

    refused = call(city, headers, setup, items=["certificate_no"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "item_not_granted"

    # Both nodes audited both calls.
    proxy_code = f"N{CITY}-{setup.requester}"
    served = audit_rows(national, "exchange.gateway_call", system=proxy_code)
    assert len(served) == 1
    assert served[0]["items"] == ["id_number", "spouse_name", "registered_on"]
    assert audit_rows(
        national, "exchange.gateway_refused", system=proxy_code, error="item_not_granted"
    )
    here = audit_rows(city, "federation.data_called", system=setup.requester)
    assert sorted(r["outcome"] for r in here) == ["item_not_granted", "ok"]
