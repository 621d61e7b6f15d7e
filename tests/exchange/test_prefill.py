"""Once-only through the exchange: a field whose source is a shared resource is prefilled from
the grant the handling department's system holds, fetched through the gateway (checked,
masked and audited); what the system may not read unmasked is left to the applicant."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.audit.helpers import sequenced
from tests.fixtures.exchange import Exchange, ask
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.audit.models import AuditEntry
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemSpec
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service


def housing_item(engine: Engine, exchange: Exchange) -> str:
    code = f"HOUSING-9{secrets.randbelow(1000):03d}"
    spec = ItemSpec.model_validate(
        {
            "code": code,
            "department": "HOUSING",
            "name_zh": "公租房资格申请（测试）",
            "name_en": "Public rental housing eligibility (test)",
            "audience": "person",
            "legal_basis_zh": ["《公共租赁住房管理办法》"],
            "legal_basis_en": ["Measures on Public Rental Housing"],
            "statutory_days": 20,
            "promised_days": 10,
            "fee": "0.00",
            "online": True,
            "offline": True,
            "max_visits": 0,
            "result_zh": "资格确认书",
            "result_en": "Eligibility confirmation",
            "fields": [
                {
                    "name": "spouse_name",
                    "type": "text",
                    "label_zh": "配偶姓名",
                    "label_en": "Spouse's name",
                    "security_label": "internal:identity",
                    "source": f"{exchange.resource}.spouse_name",
                },
                {
                    "name": "married_on",
                    "type": "date",
                    "label_zh": "结婚登记日期",
                    "label_en": "Date of marriage",
                    "security_label": "important:marriage",
                    "source": f"{exchange.resource}.registered_on",
                },
            ],
        }
    )
    with unit_of_work(engine) as session:
        catalog_service.upsert(session, OPERATOR, departments=[], items=[spec], source="test")
    return code


def test_a_granted_item_prefills_the_form_through_the_gateway(
    client: TestClient,
    exchange: Exchange,
    housing: dict[str, str],
    mca: dict[str, str],
    engine: Engine,
) -> None:
    code = housing_item(engine, exchange)
    made = ask(client, housing, exchange, ["spouse_name", "registered_on"]).json()
    client.post(
        f"/api/v1/exchange/requests/{made['id']}/decision", headers=mca, json={"approve": True}
    )
    with unit_of_work(engine) as session:
        # zhangsan's resident ID is the one the provider's system holds a marriage for.
        zhangsan = identity_service.get_by_username(session, "zhangsan")
        application = applications_service.start(session, zhangsan, item_code=code)
        form = applications_service.disclose(session, zhangsan, application).values
        states = applications_service.prefill_states(application)
    # The gateway call's journal entry reached the audit log once the application committed.
    with unit_of_work(engine) as session:
        last_call = (
            sequenced(session)
            .execute(
                select(AuditEntry)
                .where(AuditEntry.action == "exchange.gateway_call")
                .order_by(AuditEntry.seq.desc())
                .limit(1)
            )
            .scalar_one()
        )
    assert form["spouse_name"] == "李测试"
    assert states["spouse_name"].verified
    assert "婚姻登记信息" in (states["spouse_name"].origin or "")
    # Granted, but beyond the housing system's clearance (important:marriage): never prefilled
    # with a masked value; the applicant types it.
    assert "married_on" not in form
    assert last_call.details["system"] == exchange.requester_system
