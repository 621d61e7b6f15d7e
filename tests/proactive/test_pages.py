"""The administrator's page of rule runs: a held run is listed with its button, and confirming
it there sends it; a citizen's offers page declines an offer."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.test_roles import csrf, page_client
from tests.conftest import PASSWORD
from tests.fixtures.forms import submit
from tests.fixtures.principals import OPERATOR
from tests.proactive.test_service import _birth, _offers, _run
from tongban.db.session import unit_of_work
from tongban.proactive import service
from tongban.proactive.models import OfferStatus, RunStatus


def test_an_administrator_confirms_a_held_run_on_the_page(engine: Engine, app: FastAPI) -> None:
    _, _, child, _ = _birth(engine)
    (held,) = _run(engine, "newborn-household", max_share=0.0001, guard_minimum=0)
    client = page_client(app, "admin")
    page = client.get("/admin/proactive")
    assert page.status_code == 200
    assert f'data-run="{held.run_id}"' in page.text
    done = client.post(
        f"/admin/proactive/runs/{held.run_id}/confirm", data={"csrf": csrf(page.text)}
    )
    assert done.status_code == 303
    with unit_of_work(engine) as session:
        assert service.get_run(session, OPERATOR, held.run_id).status is RunStatus.CONFIRMED
    assert len(_offers(engine, "newborn-household", child)) == 2
    again = client.post(
        f"/admin/proactive/runs/{held.run_id}/confirm", data={"csrf": csrf(page.text)}
    )
    assert again.status_code == 409
    assert "不在等待确认" in again.text


def test_a_parent_declines_on_the_page(engine: Engine, app: FastAPI) -> None:
    _, mother, child, _ = _birth(engine)
    _run(engine, "newborn-household")
    (offer,) = [
        o
        for o in _offers(engine, "newborn-household", child)
        if o.recipient_id == mother.account_id
    ]
    client = TestClient(app, follow_redirects=False)
    signed = submit(client, "/login", {"username": mother.username, "password": PASSWORD})
    assert signed.status_code == 303
    page = client.get("/me/offers")
    assert f'data-offer="{offer.id}"' in page.text
    done = client.post(f"/me/offers/{offer.id}/decline", data={"csrf": csrf(page.text)})
    assert (done.status_code, done.headers["location"]) == (303, "/me/offers")
    (after,) = [o for o in _offers(engine, "newborn-household", child) if o.id == offer.id]
    assert after.status is OfferStatus.DECLINED
