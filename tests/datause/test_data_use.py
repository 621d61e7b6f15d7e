"""Who used my data: a real gateway call and an official's read of a case show up in the data
subject's record (names only, never values); nobody sees another's record; a company's record
is the company's; an objection reaches the data protection officer and the reply comes back."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.applications.factories import complete_draft
from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.fixtures.exchange import Exchange, ask, call, machine_token
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, fresh_uscc, new_citizen
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.notifications.models import Notification

PERSON_ITEM = "SAMR-0001"
COMPANY_ITEM = "SAMR-0003"


def id_number_of(engine: Engine, person: Person) -> str:
    with unit_of_work(engine) as session:
        account = identity_service.get_by_username(session, person.username)
        assert account is not None
        assert account.id_number is not None
        return account.id_number


def gateway_call_about(client: TestClient, exchange: Exchange, id_number: str) -> None:
    """The housing department's system asks the marriage registrations about ``id_number``."""
    granted = ask(client, sign_in(client, "housing_officer"), exchange, ["spouse_name"])
    assert granted.status_code == 201, granted.text
    gateway = {"Authorization": f"Bearer {machine_token(client, exchange)}"}
    served = call(client, gateway, exchange, [id_number], items=["spouse_name"])
    assert served.status_code == 200, served.text


def submitted(
    engine: Engine, username: str, item: str = PERSON_ITEM, acting_for: int | None = None
) -> str:
    """A complete application, submitted; its number."""
    with unit_of_work(engine) as session:
        applicant = identity_service.get_by_username(session, username)
        assert applicant is not None
        if acting_for is None:
            number = complete_draft(session, applicant, item)
        else:
            number = applications_service.start(
                session, applicant, item_code=item, acting_for=acting_for
            ).number
        if acting_for is None:
            applications_service.act(session, applicant, number, Action.SUBMIT)
        return number


def record(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/me/data-use", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestMyDataUse:
    def test_a_gateway_call_and_an_officials_read_are_listed_newest_first(
        self, engine: Engine, client: TestClient, exchange: Exchange
    ) -> None:
        person = new_citizen(engine)
        id_number = id_number_of(engine, person)
        mine = sign_in(client, person.username)
        assert record(client, mine)["total"] == 0

        gateway_call_about(client, exchange, id_number)
        number = submitted(engine, person.username)
        read = client.get(f"/api/v1/applications/{number}", headers=sign_in(client, "samr_officer"))
        assert read.status_code == 200

        body = record(client, mine)

        assert body["total"] == 2
        latest, earlier = body["entries"]
        assert latest["at"] >= earlier["at"]
        # The official's read of the case: their department, the fields shown, the purpose.
        assert latest["channel"] == "case_read"
        assert latest["department_zh"] == "市场监督管理局"
        shown = set(read.json()["form_data"])
        assert latest["items_zh"]
        assert len(latest["items_zh"]) == len(shown)
        assert number in latest["purpose_zh"]
        # The gateway call: the housing department's system, the item's name, the purpose stated.
        assert earlier["channel"] == "gateway"
        assert earlier["department_zh"] == "住房和城乡建设局（住房公积金管理中心）"
        assert "HOUSING" in earlier["system_zh"]
        assert earlier["items_zh"] == ["配偶姓名"]
        assert earlier["items_en"] == ["Spouse's name"]
        assert earlier["purpose_zh"] == "核查申请人婚姻状况"
        # Names only: no value of the form (ID numbers, phones, dates, names typed) reaches the
        # record; option codes of select fields are left out, they are English words.
        text = str(body)
        typed = [
            v
            for v in read.json()["form_data"].values()
            if isinstance(v, str)
            and len(v) >= 2
            and any(c.isdigit() or "\u4e00" <= c <= "\u9fff" for c in v)
        ]
        assert typed
        for value in typed:
            assert value not in text

    def test_the_record_is_paged(
        self, engine: Engine, client: TestClient, exchange: Exchange
    ) -> None:
        person = new_citizen(engine)
        id_number = id_number_of(engine, person)
        for _ in range(3):
            gateway_call_about(client, exchange, id_number)
        mine = sign_in(client, person.username)

        first = record(client, mine, per_page=2)
        second = record(client, mine, per_page=2, page=2)

        assert (first["total"], len(first["entries"]), len(second["entries"])) == (3, 2, 1)
        ids = [e["id"] for e in first["entries"] + second["entries"]]
        assert ids == sorted(ids, reverse=True)

    def test_nobody_sees_or_objects_to_another_persons_data_use(
        self, engine: Engine, client: TestClient, exchange: Exchange
    ) -> None:
        person, other = new_citizen(engine), new_citizen(engine)
        gateway_call_about(client, exchange, id_number_of(engine, person))
        theirs = record(client, sign_in(client, person.username))["entries"][0]["id"]
        intruder = sign_in(client, other.username)

        assert theirs not in [e["id"] for e in record(client, intruder)["entries"]]
        refused = client.post(
            f"/api/v1/me/data-use/{theirs}/objections", headers=intruder, json={"text": "?"}
        )
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "data_use_not_found"
        officials = client.get("/api/v1/me/data-use", headers=sign_in(client, "samr_officer"))
        assert officials.status_code == 403

    def test_a_company_sees_the_uses_of_its_own_data(
        self, engine: Engine, client: TestClient
    ) -> None:
        representative = new_citizen(engine)
        uscc = fresh_uscc()
        with unit_of_work(engine) as session:
            company = companies_service.register_legal_person(
                session,
                OPERATOR,
                uscc=uscc,
                name="测试数据公司",
                representative=representative.username,
            )
            company_id = company.id
        number = submitted(engine, representative.username, COMPANY_ITEM, acting_for=company_id)
        with unit_of_work(engine) as session:
            official = identity_service.get_by_username(session, "samr_officer")
            applicant = identity_service.get_by_username(session, representative.username)
            application = applications_service.get(session, applicant, number)
            assert application.legal_person_id == company_id
            applications_service.get(session, official, number)
        headers = sign_in(client, representative.username)
        as_self = record(client, headers)
        switched = client.put("/api/v1/session/acting-for", headers=headers, json={"uscc": uscc})
        assert switched.status_code == 200, switched.text

        as_company = record(client, headers)

        assert as_company["whose"] == uscc
        assert [(e["channel"], e["reference"]) for e in as_company["entries"]] == [
            ("case_read", number)
        ]
        # The person's own record holds the same read: they filed it.
        assert as_self["whose"] == "person"
        assert number in [e["reference"] for e in as_self["entries"]]


class TestCaseSearches:
    def test_a_case_listed_by_an_officials_search_is_in_the_record(
        self,
        engine: Engine,
        client: TestClient,
        graded_item: str,
        department_official: Person,
        citizen: tuple[str, str],
    ) -> None:
        username, _ = citizen
        with unit_of_work(engine) as session:
            applicant = identity_service.get_by_username(session, username)
            number = applications_service.start(
                session, applicant, item_code=graded_item, form={"shop_name": "张记"}
            ).number
            applications_service.add_material(
                session,
                applicant,
                number,
                requirement_code="licence",
                filename="licence.pdf",
                stream=io.BytesIO(pdf_bytes()),
            )
            applications_service.act(session, applicant, number, Action.SUBMIT)

        found = client.get(
            "/api/v1/cases",
            params={"item": graded_item},
            headers=sign_in(client, department_official.username),
        )

        assert found.status_code == 200, found.text
        assert number in [row["number"] for row in found.json()["rows"]]
        entries = record(client, sign_in(client, username))["entries"]
        listed = [e for e in entries if e["channel"] == "case_search"]
        assert [e["reference"] for e in listed] == [number]
        assert "店名" in listed[0]["items_zh"]
        assert "张记" not in str(entries)


class TestObjections:
    def test_an_objection_reaches_the_dpo_and_the_reply_comes_back(
        self, engine: Engine, client: TestClient, exchange: Exchange
    ) -> None:
        person = new_citizen(engine)
        gateway_call_about(client, exchange, id_number_of(engine, person))
        mine = sign_in(client, person.username)
        entry = record(client, mine)["entries"][0]

        raised = client.post(
            f"/api/v1/me/data-use/{entry['id']}/objections",
            headers=mine,
            json={"text": "我没有申请住房保障，为何查询我的婚姻信息？"},
        )

        assert raised.status_code == 201, raised.text
        objection = raised.json()
        assert objection["status"] == "open"
        dpo = sign_in(client, "dpo")
        listed = client.get("/api/v1/dpo/objections", headers=dpo, params={"status": "open"})
        case = next(c for c in listed.json() if c["id"] == objection["id"])
        assert case["use"]["items_zh"] == ["配偶姓名"]
        assert case["text"] == "我没有申请住房保障，为何查询我的婚姻信息？"
        assert client.get("/api/v1/dpo/objections", headers=mine).status_code == 403

        answered = client.post(
            f"/api/v1/dpo/objections/{objection['id']}/reply",
            headers=dpo,
            json={"reply": "经核查，该查询系住建局误操作，已责令整改。"},
        )

        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "closed"
        again = client.post(
            f"/api/v1/dpo/objections/{objection['id']}/reply", headers=dpo, json={"reply": "再"}
        )
        assert again.status_code == 409
        seen = record(client, mine)["entries"][0]["objections"]
        assert [(o["status"], o["reply"]) for o in seen] == [
            ("closed", "经核查，该查询系住建局误操作，已责令整改。")
        ]
        mine_listed = client.get("/api/v1/me/objections", headers=mine).json()
        assert [o["number"] for o in mine_listed] == [objection["number"]]
        with unit_of_work(engine) as session:
            messages = session.execute(
                select(Notification.event, Notification.recipient_id).where(
                    Notification.reference == objection["number"]
                )
            ).all()
            dpo_account = identity_service.get_by_username(session, "dpo")
            assert dpo_account is not None
            assert ("data_use_objection", dpo_account.id) in messages
            assert ("data_use_objection_answered", person.id) in messages
            trail = audit_helpers.entries_for(
                session, target_type="data_use_objection", target_id=objection["number"]
            )
            assert [(e.action, e.actor) for e in trail] == [
                ("data_use.objection_raised", person.username),
                ("data_use.objection_answered", "dpo"),
            ]
