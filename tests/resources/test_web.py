"""The data steward's API and pages over real HTTP, and the review page in a real Chromium."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from tests.conftest import PASSWORD, sign_in, totp_now
from tests.connectors.test_operations import new_admin
from tests.fixtures.browser import TIMEOUT_MS
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, api_sign_in, new_official
from tests.resources.test_service import HEADER, _id_pair, _import, _name, _phone
from tongban.db.session import unit_of_work
from tongban.security import service as security_service


def new_steward(engine: Engine, clearance: str = "important:identity") -> Person:
    """A data steward (an administrator) cleared as a security administrator would clear one."""
    steward = new_admin(engine)
    with unit_of_work(engine) as session:
        security_service.set_clearance(
            session, OPERATOR, username=steward.username, clearance=clearance
        )
    return steward


def _grey_pair(engine: Engine) -> tuple[str, str]:
    """Two records the model is unsure about (same name and birth date only), among records of
    other people: a name's weight counts how rare it is among the records, and in a database
    holding only these two their shared name would be everyone's and weigh against a match."""
    others = "".join(
        f"o{uuid.uuid4().hex[:8]},{_name()},M,{_id_pair()[2]},,{_phone()},\n" for _ in range(8)
    )
    _import(engine, "PSB", HEADER + others)
    _, _, born = _id_pair()
    name, tag = _name(), uuid.uuid4().hex[:8]
    _import(engine, "MCA", HEADER + f"a{tag},{name},F,{born},,{_phone()},\n")
    _import(engine, "TAX", HEADER + f"b{tag},{name},F,{born},,,\n")
    return f"a{tag}", f"b{tag}"


class TestApi:
    def test_a_steward_resolves_reviews_and_reads_a_person(
        self, client: TestClient, engine: Engine
    ) -> None:
        headers = api_sign_in(client, new_steward(engine))
        id18, id15, born = _id_pair()
        name, tag = _name(), uuid.uuid4().hex[:8]
        body = [
            {
                "local_id": f"p{tag}",
                "name": name,
                "sex": "M",
                "birth_date": str(born),
                "id_number": id18,
            }
        ]
        response = client.post("/api/v1/resources/sources/PSB/records", json=body, headers=headers)
        assert response.status_code == 200, response.text
        body = [{"local_id": f"h{tag}", "name": name, "sex": "男", "id_number": id15}]
        client.post("/api/v1/resources/sources/HRSS/records", json=body, headers=headers)
        first, second = _grey_pair(engine)
        response = client.post("/api/v1/resources/resolve", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["linked"] >= 4

        pids = client.get(
            "/api/v1/resources/persons",
            params={"scheme": "resident_id", "value": id18},
            headers=headers,
        ).json()
        assert len(pids) == 1
        person = client.get(f"/api/v1/resources/persons/{pids[0]}", headers=headers).json()
        assert {r["source"] for r in person["records"]} == {"PSB", "HRSS"}
        assert {"scheme": "old_resident_id", "value": id15, "issuer": "", "problem": ""} in person[
            "identifiers"
        ]

        queue = client.get("/api/v1/resources/reviews", headers=headers).json()
        (review,) = [r for r in queue if r["record_a"]["local_id"] == first]
        assert review["record_b"]["local_id"] == second
        assert set(review["evidence"]) == {
            "name",
            "birth_date",
            "sex",
            "id_number",
            "phone",
            "address",
        }
        decided = client.post(
            f"/api/v1/resources/reviews/{review['id']}/decision",
            json={"same": True},
            headers=headers,
        )
        assert decided.json() == {"status": "same"}
        again = client.post(
            f"/api/v1/resources/reviews/{review['id']}/decision",
            json={"same": False},
            headers=headers,
        )
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_decided"

        csv = client.get("/api/v1/resources/quality.csv", headers=headers)
        # With a byte-order mark, like every CSV download, so spreadsheet programs read Chinese.
        assert csv.text.startswith("\ufeffsource,element,records,completeness")

    def test_an_official_may_not_steward(self, client: TestClient, engine: Engine) -> None:
        headers = api_sign_in(client, new_official(engine))
        response = client.get("/api/v1/resources/reviews", headers=headers)
        assert response.status_code == 403
        assert client.post("/api/v1/resources/resolve", headers=headers).status_code == 403
        # Officials do see quality figures.
        assert client.get("/api/v1/resources/quality", headers=headers).status_code == 200


@pytest.fixture
def page(chromium: Browser, live_server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _sign_in(page: Page, person: Person, client: TestClient) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(person.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    fresh = totp_now(client.app.state.session_factory, person.username)  # type: ignore[attr-defined]
    assert fresh
    page.get_by_label("身份验证器应用中的验证码").fill(fresh)
    page.get_by_role("button", name="确认").click()


class TestReviewPage:
    @pytest.mark.browser
    def test_a_steward_sees_the_evidence_links_and_undoes(
        self, page: Page, engine: Engine, client: TestClient
    ) -> None:
        first, second = _grey_pair(engine)
        admin = new_steward(engine)
        headers = sign_in(client, admin.username)
        client.post("/api/v1/resources/resolve", headers=headers)
        _sign_in(page, admin, client)
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto("/resources/reviews")
        # The queue's size, also per 100,000 records: what it would cost a register of any size.
        expect(page.get_by_test_id("queue-size")).to_contain_text("每 10 万条记录")
        review = page.get_by_test_id("review").filter(has_text=first)
        expect(review).to_contain_text(second)
        assert float(review.get_by_test_id("weight-name").inner_text()) > 0
        review.get_by_role("button", name="同一人：关联").click()
        expect(page.get_by_test_id("review").filter(has_text=first)).to_have_count(0)

        # The person page shows both records and the steward's link, which can be undone.
        (pid,) = client.get(
            "/api/v1/resources/persons",
            params={"scheme": "department_local", "value": second},
            headers=headers,
        ).json()
        page.goto(f"/resources/persons/{pid}")
        expect(page.get_by_test_id("records")).to_contain_text(second)
        page.get_by_test_id("history").get_by_role("button", name="撤销").first.click()
        expect(page).to_have_url(re.compile(r"/resources/persons/P"))
        expect(page.get_by_test_id("records")).not_to_contain_text(first)

    @pytest.mark.browser
    def test_a_wrong_automatic_link_is_undone_from_the_persons_page(
        self, page: Page, engine: Engine, client: TestClient
    ) -> None:
        # Namesakes born the same day, sharing a family phone: linked automatically.
        _, _, born = _id_pair()
        name, tag, phone = _name(), uuid.uuid4().hex[:8], _phone()
        _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},,{phone},临江市东路3号\n")
        _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},,{phone},\n")
        admin = new_steward(engine)
        headers = sign_in(client, admin.username)
        client.post("/api/v1/resources/resolve", headers=headers)
        (pid,) = client.get(
            "/api/v1/resources/persons",
            params={"scheme": "department_local", "value": f"h{tag}"},
            headers=headers,
        ).json()
        _sign_in(page, admin, client)
        page.goto(f"/resources/persons/{pid}")
        row = page.get_by_test_id("records").get_by_role("row").filter(has_text=f"h{tag}")
        expect(row).to_contain_text("自动关联")
        row.get_by_role("button", name="不是此人").click()
        expect(page).to_have_url(re.compile(rf"/resources/persons/{pid}"))
        expect(page.get_by_test_id("records")).not_to_contain_text(f"h{tag}")
        # The next run neither links it back nor asks the steward about the pair again.
        client.post("/api/v1/resources/resolve", headers=headers)
        page.reload()
        expect(page.get_by_test_id("records")).to_contain_text(f"p{tag}")
        expect(page.get_by_test_id("records")).not_to_contain_text(f"h{tag}")
        queue = client.get("/api/v1/resources/reviews", headers=headers).json()
        assert not [
            r
            for r in queue
            if {r["record_a"]["local_id"], r["record_b"]["local_id"]} == {f"p{tag}", f"h{tag}"}
        ]
