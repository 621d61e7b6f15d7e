"""Satisfaction and rectification in the statistics: the figures of the good/bad evaluations per
department and item, with the rectification cases by status, in the API and on the dashboard;
an official sees their own department's only."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tests.applications.factories import ITEM, application_in
from tests.applications.test_roles import page_client
from tests.conftest import sign_in
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tongban.applications.states import Status
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.evaluations import service as evaluations_service
from tongban.evaluations.models import Rectification
from tongban.identity.models import Account

ONLINE = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")


def _rate(client: TestClient, engine: Engine, applicant: Account, level: int) -> str:
    number = application_in(engine, applicant=applicant.username, status=Status.COMPLETED)
    headers = sign_in(client, applicant.username)
    rated = client.post(
        f"/api/v1/applications/{number}/evaluation",
        headers=headers,
        json={"indicators": dict.fromkeys(ONLINE, level), "comment": "测试"},
    )
    assert rated.status_code == 201, rated.text
    return number


def test_the_api_shows_satisfaction_and_rectification(
    engine: Engine, client: TestClient, new_applicant: Account
) -> None:
    _rate(client, engine, new_applicant, 1)
    with unit_of_work(engine) as session:
        department = catalog_service.get_item(session, OPERATOR, ITEM).department
        code = department.code
        expected = {
            f.code: f for f in evaluations_service.satisfaction(session, ANONYMOUS).departments
        }
        rectifications = session.execute(
            select(Rectification.status, func.count())
            .where(Rectification.department_id == department.id)
            .group_by(Rectification.status)
        ).all()
    body = client.get("/api/v1/analytics/ratings", headers=sign_in(client, "supervisor")).json()
    row = next(r for r in body["departments"] if r["code"] == code)
    assert row["ratings"] == expected[code].count >= 1
    assert float(row["satisfaction_rate"]) == float(expected[code].satisfaction_rate)
    assert sum(row["by_level"].values()) == row["ratings"]
    rect = next(r for r in body["rectifications"] if r["code"] == code)
    assert {s.value: n for s, n in rectifications} == {
        k: rect[k] for k in ("open", "replied", "closed") if rect[k]
    }
    assert rect["open"] >= 1
    assert any(i["code"] == ITEM for i in body["items"])


def test_an_official_sees_their_own_department(
    engine: Engine, client: TestClient, new_applicant: Account
) -> None:
    _rate(client, engine, new_applicant, 5)
    body = client.get(
        "/api/v1/analytics/ratings", headers=sign_in(client, "housing_officer")
    ).json()
    assert {r["code"] for r in body["departments"]} <= {"HOUSING"}
    assert {r["code"] for r in body["rectifications"]} <= {"HOUSING"}
    with unit_of_work(engine) as session:
        housing = {i.code for i in catalog_service.search(session, OPERATOR, department="HOUSING")}
    assert {i["code"] for i in body["items"]} <= housing


def test_the_dashboard_shows_the_section(
    engine: Engine, app: FastAPI, client: TestClient, new_applicant: Account
) -> None:
    _rate(client, engine, new_applicant, 2)
    page = page_client(app, "supervisor").get("/analytics")
    assert page.status_code == 200, page.text[:500]
    assert 'data-testid="ratings"' in page.text
    assert 'data-testid="ratings-departments"' in page.text
    assert "满意率" in page.text or "Satisf" in page.text
