"""An exchange between two demo departments, set up as a deployment would: the civil affairs
department (MCA) registers its marriage registrations, served by its own system (the example
department service on its own port); the housing department (HOUSING) has a system with client
credentials from the identity provider, and asks for items."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from examples.department_service.app import create_app as create_department_app
from tests.conftest import sign_in
from tests.fixtures.live import serve
from tongban.connectors import service as connectors_service
from tongban.connectors.schemas import SystemSpec
from tongban.db.session import unit_of_work
from tongban.exchange import service as exchange_service
from tongban.exchange.schemas import ResourceSpec
from tongban.security import service as security_service

SECRET = "m" * 40
PERSON_ID = "330102199003071230"
OTHER_ID = "110101199003076421"
MARRIAGE = {
    PERSON_ID: {"nfxm": "李测试", "djrq": "2020-05-20", "zsbh": "J330102-2020-000123"},
}


@dataclass(frozen=True)
class Exchange:
    resource: str
    provider_system: str
    requester_system: str
    client_id: str
    client_secret: str


def resource_spec(code: str, system: str) -> dict[str, Any]:
    return {
        "code": code,
        "title_zh": "婚姻登记信息",
        "title_en": "Marriage registrations",
        "description_zh": "婚姻登记机关办理的结婚登记记录",
        "department": "MCA",
        "system": system,
        "key": "id_number",
        "update_frequency": "daily",
        "items": [
            {
                "code": "id_number",
                "name_zh": "公民身份号码",
                "name_en": "ID number",
                "type": "string",
                "element": "id_number",
                "security_label": "important:identity",
                "semantic": "id_number",
                "maintainer": "民政局婚姻登记处",
                "sharing": "unconditional",
                "source_field": "id_number",
            },
            {
                "code": "spouse_name",
                "name_zh": "配偶姓名",
                "name_en": "Spouse's name",
                "type": "string",
                "security_label": "internal:identity",
                "semantic": "name",
                "maintainer": "民政局婚姻登记处",
                "sharing": "unconditional",
                "source_field": "nfxm",
            },
            {
                "code": "registered_on",
                "name_zh": "登记日期",
                "name_en": "Date registered",
                "type": "date",
                "security_label": "important:marriage",
                "maintainer": "民政局婚姻登记处",
                "sharing": "conditional",
                "condition_zh": "仅用于住房保障资格审核",
                "purposes": ["housing_subsidy_review"],
                "source_field": "djrq",
            },
            {
                "code": "certificate_no",
                "name_zh": "结婚证字号",
                "name_en": "Marriage certificate number",
                "type": "string",
                "security_label": "important:marriage",
                "maintainer": "民政局婚姻登记处",
                "sharing": "not_shared",
                "legal_basis": "《婚姻登记档案管理办法》第十五条",
                "source_field": "zsbh",
            },
        ],
    }


@pytest.fixture(scope="module")
def provider_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("mca") / "mca.db"
    people = {k: {**v, "id_number": k} for k, v in MARRIAGE.items()}
    with serve(create_department_app(secret=SECRET, db_path=str(db), people=people)) as url:
        yield url


def system(engine: Engine, department: str, *, lookup: dict[str, Any] | None = None) -> str:
    code = f"{department}-{secrets.token_hex(3).upper()}"
    spec = SystemSpec.model_validate(
        {
            "code": code,
            "name": f"{department} 业务系统",
            "department": department,
            "secret": SECRET,
            "connectors": [],
            "lookup": lookup,
        }
    )
    with unit_of_work(engine) as session:
        connectors_service.register_system(session, None, spec)
    return code


@pytest.fixture(scope="module")
def exchange(engine: Engine, provider_service: str) -> Exchange:
    provider = system(
        engine,
        "MCA",
        lookup={"url": f"{provider_service}/lookup", "provides": {"spouse_name": "nfxm"}},
    )
    requester = system(engine, "HOUSING")
    code = f"MCA-MARRIAGE{secrets.token_hex(2).upper()}"

    with unit_of_work(engine) as session:
        exchange_service.register_resources(
            session, None, [ResourceSpec.model_validate(resource_spec(code, provider))]
        )
        registration = exchange_service.issue_credentials(session, None, system_code=requester)
        account = f"system.{requester.lower()}"
        # The housing system may read identity data, not marriage data: registered_on stays
        # masked for it even when granted.
        security_service.set_clearance(
            session, None, username=account, clearance="important:identity"
        )
        assert registration.secret
        return Exchange(
            code, provider, requester, registration.client.client_id, registration.secret
        )


def machine_token(client: TestClient, exchange: Exchange, *, scope: str | None = None) -> str:
    basic = base64.b64encode(f"{exchange.client_id}:{exchange.client_secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = client.post("/oidc/token", data=data, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def gateway(client: TestClient, exchange: Exchange) -> dict[str, str]:
    return {"Authorization": f"Bearer {machine_token(client, exchange)}"}


@pytest.fixture
def housing(client: TestClient) -> dict[str, str]:
    return sign_in(client, "housing_officer")


@pytest.fixture
def mca(client: TestClient) -> dict[str, str]:
    return sign_in(client, "mca_officer")


def ask(
    client: TestClient,
    headers: dict[str, str],
    exchange: Exchange,
    items: list[str],
    purpose: str = "housing_subsidy_review",
    **extra: Any,
) -> httpx.Response:
    return client.post(
        "/api/v1/exchange/requests",
        headers=headers,
        json={
            "resource": exchange.resource,
            "system": exchange.requester_system,
            "items": items,
            "purpose": purpose,
            "purpose_text": "核查申请人婚姻状况",
            "legal_basis": "《公共租赁住房管理办法》第七条",
            "days": 30,
            **extra,
        },
    )


def call(
    client: TestClient,
    headers: dict[str, str],
    exchange: Exchange,
    keys: list[str],
    purpose: str = "housing_subsidy_review",
    **extra: Any,
) -> httpx.Response:
    return client.post(
        "/api/v1/exchange/query",
        headers=headers,
        json={"resource": exchange.resource, "purpose": purpose, "keys": keys, **extra},
    )
