"""A department application covers several items of a bundle; wherever one item is asked about,
the application counts for each item it covers, not only for the first: the case search and its
export, and the once-only prefill when the bundle starts."""

from __future__ import annotations

import csv
import io

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.applications.test_roles import page_client
from tests.bundles.test_departments import _submitted_shop
from tests.conftest import sign_in
from tests.identity.factories import load
from tongban.applications import service as applications_service
from tongban.security import service as security_service
from tongban.security.models import ChangeKind


def _samr_number(engine: Engine, client: TestClient) -> str:
    """The market regulator's application of a submitted shop bundle (registration and food
    licence)."""
    _, _, body = _submitted_shop(engine, client)
    return str(next(a["number"] for a in body["applications"] if a["item_code"] == "SAMR-0003"))


class TestCaseSearch:
    def test_a_department_application_is_found_by_each_item_it_covers(
        self, engine: Engine, client: TestClient
    ) -> None:
        number = _samr_number(engine, client)
        officer = sign_in(client, "samr_officer")
        for item in ("SAMR-0001", "SAMR-0003"):
            found = client.get("/api/v1/cases", params={"item": item}, headers=officer)
            assert found.status_code == 200, found.text
            rows = {r["number"]: r for r in found.json()["rows"]}
            assert number in rows, item
            assert rows[number]["items"] == "SAMR-0001, SAMR-0003"
        exported = client.get("/api/v1/cases.csv", params={"item": "SAMR-0003"}, headers=officer)
        rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert next(r for r in rows if r["number"] == number)["items"] == "SAMR-0001, SAMR-0003"

    def test_the_search_page_names_the_items_of_each_case(
        self, engine: Engine, client: TestClient, app: FastAPI
    ) -> None:
        number = _samr_number(engine, client)
        pages = page_client(app, "samr_officer")
        page = pages.get("/queue/search", params={"item": "SAMR-0003", "lang": "zh_CN"})
        assert page.status_code == 200
        row = next(r for r in page.text.split('data-testid="result-row"') if number in r)
        assert "个体工商户设立登记、食品经营许可" in row

    def test_a_field_another_covered_item_labels_higher_is_protected_by_that_label(
        self, engine: Engine, client: TestClient
    ) -> None:
        number = _samr_number(engine, client)
        # In a session that is never committed: the label change stays out of the other tests.
        officer, proposer, approver = (
            load(engine, name) for name in ("samr_officer", "secadmin_a", "secadmin_b")
        )
        with Session(engine) as session:
            before = applications_service.search_cases(session, officer, item_code="SAMR-0001")
            assert "operator_name" in before.usable
            clear = next(r for r in before.rows if r["number"] == number)["operator_name"]
            change = security_service.propose_change(
                session,
                proposer,
                kind=ChangeKind.LABEL,
                target="SAMR-0003.operator_name",
                value="core:identity",
                reason="食品经营者信息从严",
            )
            security_service.decide_change(session, approver, change.id, approve=True)
            # Searched by the registration, whose own label on the field has not changed.
            after = applications_service.search_cases(session, officer, item_code="SAMR-0001")
            assert "operator_name" not in after.usable
            row = next(r for r in after.rows if r["number"] == number)
            assert row.get("operator_name") != clear
