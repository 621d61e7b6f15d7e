"""Early warnings told to supervisors: every at-risk case and worsening department reaches
every supervisor, never the same warning twice a day; officials cannot send them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.analytics.conftest import TODAY
from tests.applications.test_roles import csrf, page_client
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import load
from tongban.analytics import service
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.notifications.models import Notification


def _sent(engine: Engine, reference_prefix: str, recipient_id: int) -> list[Notification]:
    with unit_of_work(engine) as session:
        stmt = select(Notification).where(
            Notification.reference.startswith(reference_prefix),
            Notification.recipient_id == recipient_id,
        )
        return list(session.execute(stmt).scalars())


def test_each_warning_reaches_each_supervisor_once_a_day(analytics_engine: Engine) -> None:
    supervisor = load(analytics_engine, "supervisor")
    day = TODAY - timedelta(days=1)
    with unit_of_work(analytics_engine) as session:
        found = service.early_warnings(session, OPERATOR, today=day)
        told = service.notify_supervisors(session, OPERATOR, today=day)
    assert found.at_risk
    assert told.supervisors >= 1
    assert told.messages > 0
    sent = _sent(analytics_engine, f"warning:{day.isoformat()}:", supervisor.id)
    in_app = {n.reference for n in sent if n.channel.value == "in_app"}
    expected = {f"warning:{day.isoformat()}:{c.number}" for c in found.at_risk} | {
        f"warning:{day.isoformat()}:{w.department_code}" for w in found.worsening
    }
    assert in_app == expected
    with unit_of_work(analytics_engine) as session:
        again = service.notify_supervisors(session, OPERATOR, today=day)
    assert again.messages == 0
    assert len(_sent(analytics_engine, f"warning:{day.isoformat()}:", supervisor.id)) == len(sent)


def test_the_next_day_tells_again(analytics_engine: Engine) -> None:
    supervisor = load(analytics_engine, "supervisor")
    with unit_of_work(analytics_engine) as session:
        found = service.early_warnings(session, OPERATOR, today=TODAY)
        service.notify_supervisors(session, OPERATOR, today=TODAY)
    sent = _sent(analytics_engine, f"warning:{TODAY.isoformat()}:", supervisor.id)
    assert {n.reference for n in sent if n.channel.value == "in_app"} >= {
        f"warning:{TODAY.isoformat()}:{c.number}" for c in found.at_risk
    }


def test_an_official_may_not_send_them(analytics_engine: Engine) -> None:
    with unit_of_work(analytics_engine) as session, pytest.raises(Forbidden):
        service.notify_supervisors(session, load(analytics_engine, "housing_officer"))


def test_a_supervisor_sends_them_by_api(analytics_client: TestClient) -> None:
    headers = sign_in(analytics_client, "supervisor")
    sent = analytics_client.post("/api/v1/analytics/warnings/notify", headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["supervisors"] >= 1
    refused = analytics_client.post(
        "/api/v1/analytics/warnings/notify", headers=sign_in(analytics_client, "housing_officer")
    )
    assert refused.status_code == 403


def test_the_warnings_page_button_sends_them(analytics_app: FastAPI) -> None:
    client = page_client(analytics_app, "supervisor")
    page = client.get("/analytics/warnings")
    assert 'data-testid="notify-supervisors"' in page.text
    sent = client.post("/analytics/warnings/notify", data={"csrf": csrf(page.text)})
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/analytics/warnings?sent=")
    shown = client.get(sent.headers["location"])
    assert 'data-testid="warnings-sent"' in shown.text
    official = page_client(analytics_app, "housing_officer").get("/analytics/warnings")
    assert 'data-testid="notify-supervisors"' not in official.text
