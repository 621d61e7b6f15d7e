"""The proactive service API over real HTTP: a person lists, takes up and declines their own
offers; another person cannot; an administrator confirms a held run."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.proactive.test_service import _birth, _offers, _run
from tongban.proactive.models import RunStatus


def test_a_parent_takes_up_the_offer_by_api(engine: Engine, client: TestClient) -> None:
    father, mother, child, name = _birth(engine)
    _run(engine, "newborn-household")
    headers = sign_in(client, father.username)
    listed = client.get("/api/v1/me/offers", headers=headers)
    assert listed.status_code == 200
    (mine,) = [o for o in listed.json() if o["subject_ref"] == child]
    assert mine["item_code"] == "PSB-0003"
    assert mine["prefill"]["baby_name"] == name
    other = sign_in(client, mother.username)
    refused = client.post(f"/api/v1/me/offers/{mine['id']}/accept", headers=other)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "offer_not_found"
    taken = client.post(f"/api/v1/me/offers/{mine['id']}/accept", headers=headers)
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert body["offer"]["status"] == "applied"
    assert body["next_url"] == f"/applications/{body['application_number']}"
    again = client.post(f"/api/v1/me/offers/{mine['id']}/accept", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "offer_closed"
    application = client.get(f"/api/v1/applications/{body['application_number']}", headers=headers)
    assert application.status_code == 200


def test_a_mother_declines_by_api(engine: Engine, client: TestClient) -> None:
    _, mother, child, _ = _birth(engine)
    _run(engine, "newborn-household")
    headers = sign_in(client, mother.username)
    (mine,) = [
        o
        for o in client.get("/api/v1/me/offers", headers=headers).json()
        if o["subject_ref"] == child
    ]
    declined = client.post(f"/api/v1/me/offers/{mine['id']}/decline", headers=headers)
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"


def test_an_administrator_confirms_a_held_run(engine: Engine, client: TestClient) -> None:
    _, _, child, _ = _birth(engine)
    (held,) = _run(engine, "newborn-household", max_share=0.0001, guard_minimum=0)
    assert held.status is RunStatus.PENDING
    citizen = sign_in(client, _birth(engine)[0].username)
    assert (
        client.post(f"/api/v1/proactive/runs/{held.run_id}/confirm", headers=citizen).status_code
        == 403
    )
    admin = sign_in(client, "admin")
    runs = client.get("/api/v1/proactive/runs", headers=admin)
    assert any(r["id"] == held.run_id and r["status"] == "pending" for r in runs.json())
    confirmed = client.post(f"/api/v1/proactive/runs/{held.run_id}/confirm", headers=admin)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert len(_offers(engine, "newborn-household", child)) == 2
