"""Mandatory access control on every read path, tried by an adversary.

A health official cleared only for ``internal:identity`` goes after an ``important:health`` field
(the expected delivery date of a birth registration) and an ``important:identity`` one (the
mother's ID number) by every path the platform has: the case by number, the queue, the case
search, a filter, a sort, the CSV export, error messages and counts, through the API and the
pages. They get masked values and refusals that say nothing about the values; the demo health
official, cleared for ``important:identity,health``, gets everything on the same paths.

The clearance itself is set the way a deployment sets it: one security administrator proposes,
another approves, through the API.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.applications.factories import complete_draft, form_values
from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import new_official
from tests.identity.test_pages import signed_in
from tongban.applications import service
from tongban.applications.models import Application
from tongban.applications.states import Action
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind

# The routes returning labelled values that these tests try as an adversary (checked by
# tests/architecture/test_labelled_reads_are_tried.py).
ROUTES_TRIED = {
    ("GET", "/api/v1/applications/{number}"),
    ("POST", "/api/v1/applications/{number}/actions"),
    ("POST", "/api/v1/applications"),
    ("PUT", "/api/v1/applications/{number}/form"),
}

ITEM = "HEALTH-0003"
SECRET_DATE = "2027-03-15"
OTHER_DATE = "2027-08-09"
MOTHER_ID = "110101199003076421"
HIDDEN = ("expected_date", "child_order", "mother_id_number", "father_id_number")


@dataclass(frozen=True)
class Cases:
    low: dict[str, str]  # headers of the official cleared internal:identity
    high: dict[str, str]  # headers of the demo health official
    numbers: tuple[str, str]
    low_username: str
    # The low official signed in to the pages (cookie and CSRF token, as a browser).
    low_pages: TestClient


def file_case(engine: Engine, expected_date: str) -> str:
    """A submitted birth registration by a fresh applicant."""
    with unit_of_work(engine) as session:
        applicant = identity_service.create_account(
            session,
            OPERATOR,
            # Unique per call: id(session) may repeat once a session is freed.
            username=f"mac_{expected_date.replace('-', '')}_{uuid.uuid4().hex[:8]}",
            password="demo-password",
            display_name="孙测试",
            kind=AccountKind.APPLICANT,
        )
        item = catalog_service.get_item(session, OPERATOR, ITEM)
        values = form_values(service.field_specs(item)) | {
            "expected_date": expected_date,
            "mother_id_number": MOTHER_ID,
            "child_order": "second",
        }
        number = complete_draft(session, applicant, ITEM)
        service.update_form(session, applicant, number, values)
        service.act(session, applicant, number, Action.SUBMIT)
        return number


@pytest.fixture(scope="module")
def cases(engine: Engine, app: FastAPI) -> Cases:
    client = TestClient(app)
    low = new_official(engine, department="HEALTH")
    proposer, approver = sign_in(client, "secadmin_a"), sign_in(client, "secadmin_b")
    proposed = client.post(
        "/api/v1/security/changes",
        headers=proposer,
        json={
            "kind": "clearance",
            "target": low.username,
            "value": "internal:identity",
            "reason": "新入职窗口人员",
        },
    )
    assert proposed.status_code == 201, proposed.text
    approved = client.post(
        f"/api/v1/security/changes/{proposed.json()['id']}/approve", headers=approver, json={}
    )
    assert approved.status_code == 200, approved.text
    numbers = (file_case(engine, SECRET_DATE), file_case(engine, OTHER_DATE))
    # The page sign-in first: the API's sign_in forgets the last code used, the pages' does not.
    low_pages = signed_in(app, low)
    return Cases(
        sign_in(client, low.username),
        sign_in(client, "health_officer"),
        numbers,
        low.username,
        low_pages,
    )


def leaks(text: str) -> list[str]:
    return [s for s in (SECRET_DATE, OTHER_DATE, MOTHER_ID) if s in text]


class TestTheCaseByNumber:
    def test_hidden_fields_are_masked_for_the_low_clearance(
        self, client: TestClient, cases: Cases
    ) -> None:
        response = client.get(f"/api/v1/applications/{cases.numbers[0]}", headers=cases.low)
        assert response.status_code == 200
        form = response.json()["form_data"]
        assert form["expected_date"] == "***"
        assert form["child_order"] == "***"
        assert form["mother_id_number"] == "110***********6421"
        # What the clearance covers is shown as it is.
        assert form["mother_name"] == "测试"
        assert leaks(response.text) == []

    def test_the_cleared_official_reads_everything(self, client: TestClient, cases: Cases) -> None:
        form = client.get(f"/api/v1/applications/{cases.numbers[0]}", headers=cases.high).json()[
            "form_data"
        ]
        assert form["expected_date"] == SECRET_DATE
        assert form["mother_id_number"] == MOTHER_ID

    def test_acting_on_the_case_answers_with_the_masked_form(
        self, client: TestClient, cases: Cases, engine: Engine
    ) -> None:
        number = file_case(engine, SECRET_DATE)
        response = client.post(
            f"/api/v1/applications/{number}/actions",
            headers=cases.low,
            json={"action": "accept"},
        )
        assert response.status_code == 200, response.text
        assert leaks(response.text) == []

    def test_the_case_page_shows_masks(self, client: TestClient, cases: Cases) -> None:
        page = cases.low_pages.get(f"/queue/{cases.numbers[0]}")
        assert page.status_code == 200
        assert leaks(page.text) == []
        assert 'data-testid="masked-expected_date"' in page.text


class TestWritesTriedByTheAdversary:
    def test_writing_the_form_of_a_case_is_refused_without_a_value(
        self, client: TestClient, cases: Cases
    ) -> None:
        response = client.put(
            f"/api/v1/applications/{cases.numbers[0]}/form",
            headers=cases.low,
            json={"form": {"child_order": "first"}},
        )
        assert response.status_code in (403, 404, 409)
        assert leaks(response.text) == []

    def test_an_official_cannot_start_an_application(
        self, client: TestClient, cases: Cases
    ) -> None:
        response = client.post(
            "/api/v1/applications", headers=cases.low, json={"item_code": ITEM, "form": {}}
        )
        assert response.status_code == 403
        assert leaks(response.text) == []


class TestListsSearchesAndExports:
    def test_the_queue_shows_no_hidden_value(self, client: TestClient, cases: Cases) -> None:
        response = client.get("/api/v1/queue", headers=cases.low)
        assert response.status_code == 200
        assert {c["number"] for c in response.json()} >= set(cases.numbers)
        assert leaks(response.text) == []

    def test_search_results_are_masked(self, client: TestClient, cases: Cases) -> None:
        response = client.get("/api/v1/cases", params={"item": ITEM}, headers=cases.low)
        assert response.status_code == 200, response.text
        body = response.json()
        rows = {r["number"]: r for r in body["rows"]}
        assert rows[cases.numbers[0]]["expected_date"] == "***"
        assert leaks(response.text) == []
        # The low clearance's count is every case: nothing was filtered on what it cannot read.
        assert body["total"] == len(body["rows"])

    @pytest.mark.parametrize("field", HIDDEN)
    @pytest.mark.parametrize("value", [SECRET_DATE, "1999-01-01", "not-a-date", "second"])
    def test_filtering_by_a_hidden_field_is_refused_like_a_missing_field(
        self, client: TestClient, cases: Cases, field: str, value: str
    ) -> None:
        hidden = client.get(
            "/api/v1/cases", params={"item": ITEM, "filter": f"{field}:{value}"}, headers=cases.low
        )
        missing = client.get(
            "/api/v1/cases", params={"item": ITEM, "filter": f"no_such:{value}"}, headers=cases.low
        )
        assert hidden.status_code == missing.status_code == 422
        assert hidden.json() == json.loads(missing.text.replace("no_such", field))
        assert leaks(hidden.text) == []

    @pytest.mark.parametrize("field", HIDDEN)
    def test_sorting_by_a_hidden_field_is_refused_like_a_missing_field(
        self, client: TestClient, cases: Cases, field: str
    ) -> None:
        for path in ("/api/v1/cases", "/api/v1/cases.csv"):
            hidden = client.get(path, params={"item": ITEM, "sort": field}, headers=cases.low)
            missing = client.get(path, params={"item": ITEM, "sort": "no_such"}, headers=cases.low)
            assert hidden.status_code == missing.status_code == 422
            assert hidden.json() == json.loads(missing.text.replace("no_such", field))

    def test_the_csv_export_is_masked(self, client: TestClient, cases: Cases) -> None:
        response = client.get("/api/v1/cases.csv", params={"item": ITEM}, headers=cases.low)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
        mine = next(r for r in rows if r["number"] == cases.numbers[0])
        assert mine["expected_date"] == "***"
        assert leaks(response.text) == []

    def test_the_search_page_and_its_csv_are_masked(self, client: TestClient, cases: Cases) -> None:
        page = cases.low_pages.get("/queue/search", params={"item": ITEM})
        assert page.status_code == 200
        assert cases.numbers[0] in page.text
        assert leaks(page.text) == []
        # Hidden fields are not even offered to filter or sort by.
        assert 'value="expected_date"' not in page.text
        refused = cases.low_pages.get(
            "/queue/search", params={"item": ITEM, "field": "expected_date", "value": SECRET_DATE}
        )
        assert refused.status_code == 422
        # Only the official's own search text comes back (search box, links); no case does.
        assert 'data-testid="results"' not in refused.text
        assert [s for s in leaks(refused.text) if s != SECRET_DATE] == []
        exported = cases.low_pages.get("/queue/search.csv", params={"item": ITEM})
        assert exported.status_code == 200
        assert leaks(exported.text) == []

    def test_the_cleared_official_can_filter_sort_and_count_by_it(
        self, client: TestClient, cases: Cases
    ) -> None:
        found = client.get(
            "/api/v1/cases",
            params={"item": ITEM, "filter": f"expected_date:{SECRET_DATE}"},
            headers=cases.high,
        ).json()
        assert cases.numbers[0] in {r["number"] for r in found["rows"]}
        assert cases.numbers[1] not in {r["number"] for r in found["rows"]}
        ordered = client.get(
            "/api/v1/cases",
            params={"item": ITEM, "sort": "expected_date", "desc": "true"},
            headers=cases.high,
        ).json()["rows"]
        dates = [r["expected_date"] for r in ordered]
        assert dates == sorted(dates, reverse=True)

    def test_searches_are_audited_without_the_values_sought(
        self, client: TestClient, cases: Cases, engine: Engine
    ) -> None:
        client.get(
            "/api/v1/cases",
            params={"item": ITEM, "filter": f"expected_date:{SECRET_DATE}"},
            headers=cases.high,
        )
        with unit_of_work(engine) as session:
            entries = audit_helpers.entries_for(session, target_type="service_item", target_id=ITEM)
            last = [e for e in entries if e.action == "application.cases_searched"][-1]
            assert last.details["filters"] == ["expected_date"]
            assert SECRET_DATE not in json.dumps(last.details)

    def test_another_departments_items_are_not_searchable(
        self, client: TestClient, cases: Cases
    ) -> None:
        response = client.get("/api/v1/cases", params={"item": "SAMR-0001"}, headers=cases.low)
        assert response.status_code == 404


class TestAtRest:
    def test_high_grade_values_are_stored_encrypted(self, cases: Cases, engine: Engine) -> None:
        with engine.connect() as connection:
            stored = connection.execute(
                select(Application.__table__.c.form_data).where(
                    Application.__table__.c.number == cases.numbers[0]
                )
            ).scalar_one()
            prefill = connection.execute(
                select(Application.__table__.c.prefill).where(
                    Application.__table__.c.number == cases.numbers[0]
                )
            ).scalar_one()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        raw = json.dumps(stored, ensure_ascii=False) + json.dumps(prefill, ensure_ascii=False)
        assert leaks(raw) == []
        assert stored["expected_date"]["sealed"].startswith("tb1.")
        assert stored["mother_id_number"]["sealed"].startswith("tb1.")
        # Internal-grade values are kept as they are (the database's own encryption covers them).
        assert stored["mother_name"] == "测试"

    def test_a_token_moved_to_another_field_does_not_decrypt(
        self, client: TestClient, cases: Cases, engine: Engine
    ) -> None:
        number = file_case(engine, SECRET_DATE)
        table = Application.__table__
        with engine.begin() as connection:
            stored = connection.execute(
                select(table.c.form_data).where(table.c.number == number)
            ).scalar_one()
            stored = json.loads(stored) if isinstance(stored, str) else stored
            # An insider swaps two sealed values to mislead the reviewer.
            stored["expected_date"], stored["father_id_number"] = (
                stored["father_id_number"],
                stored["expected_date"],
            )
            connection.execute(
                table.update().where(table.c.number == number).values(form_data=stored)
            )
        response = client.get(f"/api/v1/applications/{number}", headers=cases.high)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "decryption_failed"
        assert leaks(response.text) == []
        # One damaged case does not take the department's search down: it shows as unreadable
        # and the failure is audited for the security administrators.
        found = client.get("/api/v1/cases", params={"item": ITEM}, headers=cases.high)
        assert found.status_code == 200
        row = next(r for r in found.json()["rows"] if r["number"] == number)
        assert row["expected_date"] == row["father_id_number"] == "⚠"
        with unit_of_work(engine) as session:
            entries = audit_helpers.entries_for(session, target_type="service_item", target_id=ITEM)
            failed = [e for e in entries if e.action == "security.integrity_failed"][-1]
            assert f"{number}.expected_date" in failed.details["values"]


def test_the_low_official_account_has_no_way_to_raise_its_own_clearance(
    client: TestClient, cases: Cases, engine: Engine
) -> None:
    response = client.post(
        "/api/v1/security/changes",
        headers=cases.low,
        json={
            "kind": "clearance",
            "target": cases.low_username,
            "value": "core:health",
            "reason": "想看",
        },
    )
    assert response.status_code == 403
    with unit_of_work(engine) as session:
        account = session.execute(
            select(Account).where(Account.username == cases.low_username)
        ).scalar_one()
        from tongban.security import access

        assert str(access.clearance_for(session, account)) == "internal:identity"
