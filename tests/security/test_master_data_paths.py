"""Mandatory access control on every read path of master data, tried by an adversary.

A data steward cleared only for ``internal:identity`` goes after the resident ID number (the
``id_number`` element, ``important:identity``) of a person by every path the steward has: the
person by platform ID, the person page, the search by ID number, the review queue and its page
with the evidence, the quality page and its CSV, error messages and counts. They get masked
values and refusals that tell nothing; a steward cleared ``important:identity`` gets everything
on the same paths. A steward cleared only ``public`` sees conflicting values masked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.identity.factories import api_sign_in, new_official
from tests.identity.test_pages import signed_in
from tests.resources.test_service import (
    HEADER,
    _address_conflict,
    _id_pair,
    _import,
    _name,
    _person_of,
    _resolve,
)
from tests.resources.test_web import new_steward

# The routes returning labelled values that these tests try as an adversary (checked by
# tests/architecture/test_labelled_reads_are_tried.py).
ROUTES_TRIED = {
    ("GET", "/api/v1/resources/persons/{pid}"),
    ("GET", "/api/v1/resources/reviews"),
    ("GET", "/api/v1/resources/conflicts"),
    ("POST", "/api/v1/resources/conflicts/{conflict_id}/confirm"),
    ("POST", "/api/v1/resources/conflicts/{conflict_id}/correct"),
    ("POST", "/api/v1/resources/conflicts/{conflict_id}/dismiss"),
}


@dataclass(frozen=True)
class Master:
    pid: str
    id18: str
    id15: str
    tags: tuple[str, str]  # the local ids of a grey pair holding ID numbers
    grey_id: str
    low: dict[str, str]
    high: dict[str, str]
    low_pages: TestClient

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.id18, self.id15, self.grey_id)

    def leaks(self, text: str) -> list[str]:
        return [s for s in self.secrets if s in text]


@pytest.fixture(scope="module")
def master(engine: Engine, app: FastAPI) -> Master:
    id18, id15, born = _id_pair()
    name, tag = _name(), uuid.uuid4().hex[:8]
    _import(engine, "PSB", HEADER + f"p{tag},{name},M,{born},{id18},,\n")
    _import(engine, "HRSS", HEADER + f"h{tag},{name},M,{born},{id15},,\n")
    # A pair the model is unsure about (same name and birth date), one with an ID number.
    grey_a, _, grey_born = _id_pair()
    grey_name = _name()
    _import(engine, "MCA", HEADER + f"a{tag},{grey_name},F,{grey_born},{grey_a},,\n")
    _import(engine, "TAX", HEADER + f"b{tag},{grey_name},F,{grey_born},,,\n")
    _resolve(engine)
    pid = _person_of(engine, "PSB", f"p{tag}")
    assert pid is not None
    client = TestClient(app)
    return Master(
        pid,
        id18,
        id15,
        (f"a{tag}", f"b{tag}"),
        grey_a,
        api_sign_in(client, new_steward(engine, "internal:identity")),
        api_sign_in(client, new_steward(engine, "important:identity")),
        signed_in(app, new_steward(engine, "internal:identity")),
    )


class TestThePerson:
    def test_the_low_steward_gets_the_id_numbers_masked(
        self, client: TestClient, master: Master
    ) -> None:
        response = client.get(f"/api/v1/resources/persons/{master.pid}", headers=master.low)
        assert response.status_code == 200, response.text
        body = response.json()
        assert master.leaks(response.text) == []
        assert {i["value"] for i in body["identifiers"] if i["scheme"] == "resident_id"} == {
            master.id18[:3] + "*" * 11 + master.id18[-4:]
        }
        assert {r["id_number"] for r in body["records"]} == {
            master.id18[:3] + "*" * 11 + master.id18[-4:],
            master.id15[:3] + "*" * 8 + master.id15[-4:],
        }
        # What the clearance covers is shown as it is: the name is internal:identity.
        assert "*" not in body["name"]
        assert {r["name"] for r in body["records"]} == {body["name"]}

    def test_the_cleared_steward_reads_the_numbers(
        self, client: TestClient, master: Master
    ) -> None:
        body = client.get(f"/api/v1/resources/persons/{master.pid}", headers=master.high).json()
        assert {i["value"] for i in body["identifiers"]} >= {master.id18, master.id15}
        assert {r["id_number"] for r in body["records"]} == {master.id18, master.id15}

    def test_the_person_page_shows_no_number(self, master: Master) -> None:
        page = master.low_pages.get(f"/resources/persons/{master.pid}")
        assert page.status_code == 200
        assert master.leaks(page.text) == []
        assert master.id18[:3] + "*" * 11 + master.id18[-4:] in page.text

    def test_an_unknown_person_says_nothing_more_than_its_pid(
        self, client: TestClient, master: Master
    ) -> None:
        response = client.get("/api/v1/resources/persons/P0000000000XX", headers=master.low)
        assert response.status_code == 404
        assert master.leaks(response.text) == []


class TestTheSearch:
    @pytest.mark.parametrize("scheme", ["resident_id", "old_resident_id", "department_local"])
    def test_searching_by_a_hidden_identifier_is_refused_whether_or_not_anyone_holds_it(
        self, client: TestClient, master: Master, scheme: str
    ) -> None:
        held = {"resident_id": master.id18, "old_resident_id": master.id15}.get(
            scheme, master.tags[0]
        )
        nobody = "110101190001010000" if scheme != "department_local" else "no-such-record"
        answers = [
            client.get(
                "/api/v1/resources/persons",
                params={"scheme": scheme, "value": value},
                headers=master.low,
            )
            for value in (held, nobody)
        ]
        assert [a.status_code for a in answers] == [422, 422]
        assert answers[0].json() == answers[1].json()
        assert master.leaks(answers[0].text) == []

    def test_the_cleared_steward_finds_the_person(self, client: TestClient, master: Master) -> None:
        response = client.get(
            "/api/v1/resources/persons",
            params={"scheme": "resident_id", "value": master.id18},
            headers=master.high,
        )
        assert response.json() == [master.pid]


class TestTheReviewQueue:
    def _mine(self, client: TestClient, master: Master, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
        queue = client.get("/api/v1/resources/reviews", params={"limit": 1000}, headers=headers)
        assert queue.status_code == 200, queue.text
        (review,) = [r for r in queue.json() if r["record_a"]["local_id"] == master.tags[0]]
        return review  # type: ignore[no-any-return]

    def test_the_evidence_of_the_hidden_element_is_left_out(
        self, client: TestClient, master: Master
    ) -> None:
        review = self._mine(client, master, master.low)
        assert "id_number" not in review["evidence"]
        assert {"name", "birth_date"} <= set(review["evidence"])
        # Computed from the ID numbers too: not shown.
        assert review["match_probability"] is None
        assert review["match_weight"] is None
        assert master.leaks(str(review)) == []
        assert review["record_a"]["id_number"].count("*") == 11

    def test_the_order_does_not_follow_the_hidden_probability(
        self, client: TestClient, master: Master
    ) -> None:
        queue = client.get(
            "/api/v1/resources/reviews", params={"limit": 1000}, headers=master.low
        ).json()
        # Newest first: an order that depends on no value.
        assert [r["id"] for r in queue] == sorted((r["id"] for r in queue), reverse=True)

    def test_the_cleared_steward_has_the_whole_evidence(
        self, client: TestClient, master: Master
    ) -> None:
        review = self._mine(client, master, master.high)
        assert "id_number" in review["evidence"]
        assert review["match_probability"] is not None
        assert review["record_a"]["id_number"] == master.grey_id

    def test_the_review_page_shows_no_number(self, master: Master) -> None:
        page = master.low_pages.get("/resources/reviews")
        assert page.status_code == 200
        assert master.leaks(page.text) == []
        assert master.tags[0] in page.text


class TestQualityAndConflicts:
    def test_the_quality_page_and_csv_hold_no_value(self, master: Master) -> None:
        for path in ("/resources/quality", "/resources/quality.csv"):
            response = master.low_pages.get(path)
            assert response.status_code == 200
            assert master.leaks(response.text) == []

    def test_conflicting_values_are_masked_for_a_public_steward(
        self, client: TestClient, engine: Engine
    ) -> None:
        pid, *_ = _address_conflict(engine)
        for clearance, shown in (("public", False), ("internal:identity", True)):
            headers = api_sign_in(client, new_steward(engine, clearance))
            response = client.get("/api/v1/resources/conflicts", headers=headers)
            assert response.status_code == 200, response.text
            (conflict,) = [c for c in response.json() if c["pid"] == pid]
            assert ("人民路1号" in response.text) is shown
            assert ("解放路9号" in response.text) is shown
            assert conflict["element"] == "address"

    def test_closing_a_conflict_shows_an_official_cleared_public_no_value(
        self, client: TestClient, engine: Engine
    ) -> None:
        """An approver of the authority's department cleared only ``public`` may confirm or
        dismiss (a decision on the routing, not on the values) and gets the conflict back
        masked; correcting writes a value they cannot read, and is refused."""
        official = new_official(engine, department="HOUSING", roles=("approver",))
        headers = api_sign_in(client, official)
        for decision, body in (
            ("confirm", {"note": "以住建为准"}),
            ("correct", {"value": "临江市解放路9号"}),
            ("dismiss", {"reason": "工作地址"}),
        ):
            pid, *_ = _address_conflict(engine)
            listed = client.get("/api/v1/resources/conflicts", headers=headers)
            (conflict,) = [c for c in listed.json() if c["pid"] == pid]
            response = client.post(
                f"/api/v1/resources/conflicts/{conflict['id']}/{decision}",
                headers=headers,
                json=body,
            )
            assert "人民路1号" not in response.text
            if decision == "correct":
                assert response.status_code == 403, response.text
                assert "解放路9号" not in response.text
            else:
                assert response.status_code == 200, response.text
                assert "解放路9号" not in response.text
                assert response.json()["status"] == "resolved"
        # Another such official (one authenticator code signs in once).
        reader = new_official(engine, department="HOUSING", roles=("approver",))
        page = signed_in(client.app, reader).get("/resources/conflicts?status=resolved")
        assert page.status_code == 200
        assert "人民路1号" not in page.text
        assert "解放路9号" not in page.text
