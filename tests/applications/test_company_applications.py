"""A person acting for a company applies as the company: the application names it, the decision
is addressed to it, and acting for a company one is not authorised for is refused."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.applications.helpers import act, upload_required, valid_form
from tests.identity.factories import api_sign_in, new_citizen
from tests.identity.test_companies import company, grant
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service

COMPANY_ITEM = "SAMR-0002"  # 有限责任公司设立登记, for companies


def acting_as_agent(client: TestClient, engine: Engine, name: str) -> tuple[dict[str, str], str]:
    boss, agent = new_citizen(engine), new_citizen(engine)
    uscc = company(engine, boss, name=name)
    grant(engine, uscc, boss, agent)
    headers = api_sign_in(client, agent)
    switched = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})
    assert switched.status_code == 200, switched.text
    return headers, uscc


class TestApplyingForACompany:
    def test_the_application_is_the_companys_and_so_is_the_decision(
        self, client: TestClient, engine: Engine, official_headers: dict[str, str]
    ) -> None:
        headers, uscc = acting_as_agent(client, engine, "临江云帆科技有限公司")
        created = client.post(
            "/api/v1/applications",
            headers=headers,
            json={"item_code": COMPANY_ITEM, "form": valid_form(client, COMPANY_ITEM)},
        )
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        assert created.json()["legal_person"] == "临江云帆科技有限公司"
        assert created.json()["legal_person_uscc"] == uscc
        upload_required(client, headers, number, COMPANY_ITEM)
        assert act(client, headers, number, "submit").status_code == 200
        for action in ("accept", "start_review", "approve"):
            assert act(client, official_headers, number, action).status_code == 200
        pdf = client.get(f"/api/v1/applications/{number}/decision.pdf", headers=headers)
        text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert "临江云帆科技有限公司：" in text

    def test_a_persons_item_is_refused_while_acting_for_a_company(
        self, client: TestClient, engine: Engine
    ) -> None:
        headers, _ = acting_as_agent(client, engine, "临江甲乙有限公司")
        response = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": "PSB-0005"}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_without_acting_for_a_company_the_application_is_the_persons(
        self, client: TestClient, applicant_headers: dict[str, str]
    ) -> None:
        created = client.post(
            "/api/v1/applications", headers=applicant_headers, json={"item_code": "SAMR-0001"}
        ).json()
        assert created["legal_person"] is None

    def test_an_authorisation_revoked_since_switching_stops_the_acting(
        self, client: TestClient, engine: Engine
    ) -> None:
        from tongban.identity.companies import service as companies_service

        boss, agent = new_citizen(engine), new_citizen(engine)
        uscc = company(engine, boss, name="临江撤销测试有限公司")
        grant(engine, uscc, boss, agent)
        headers = api_sign_in(client, agent)
        client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})
        with unit_of_work(engine) as session:
            representative = identity_service.get_by_username(session, boss.username)
            companies_service.revoke_agent(
                session, representative, uscc=uscc, username=agent.username
            )
        created = client.post(
            "/api/v1/applications", headers=headers, json={"item_code": COMPANY_ITEM}
        ).json()
        assert created["legal_person"] is None
