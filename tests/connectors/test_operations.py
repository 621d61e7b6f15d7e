"""Administrators see connector health, the backlog and dead letters, and send a dead letter
again; nobody else may."""

from __future__ import annotations

import pyotp
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.connectors.conftest import SystemFactory, api_connector, submit
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import Person, new_official, unique
from tests.identity.test_pages import csrf, signed_in
from tongban.connectors.models import MessageStatus, OutboxMessage
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.integration import dispatcher


def new_admin(engine: Engine) -> Person:
    secret = pyotp.random_base32()
    with unit_of_work(engine) as session:
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=unique("adm"),
            password=PASSWORD,
            display_name="管理员",
            kind=AccountKind.ADMIN,
            totp_secret=secret,
        )
        return Person(account.username, account.id, secret, kind=AccountKind.ADMIN)


class TestOperationsPage:
    def test_an_administrator_sees_a_dead_letter_and_sends_it_again(
        self,
        app: FastAPI,
        engine: Engine,
        register_system: SystemFactory,
        department_service: str,
        applicant: Account,
        department: str,
    ) -> None:
        system = register_system([api_connector(department_service)], secret="z" * 40)
        number = submit(engine, applicant, department)
        assert dispatcher.dispatch_once(engine, systems=[system]).dead == 1
        client = signed_in(app, new_admin(engine))
        page = client.get("/admin/connectors")
        assert page.status_code == 200
        assert number in page.text
        assert "HTTP 401" in page.text
        with unit_of_work(engine) as session:
            dead = session.query(OutboxMessage).filter_by(aggregate_id=number).one()
        response = client.post(
            f"/admin/connectors/dead/{dead.id}/retry", data={"csrf": csrf(page.text)}
        )
        assert response.status_code == 303
        with unit_of_work(engine) as session:
            again = session.get(OutboxMessage, dead.id)
            assert again is not None
            assert again.status is MessageStatus.PENDING

    def test_an_official_is_refused(self, app: FastAPI, engine: Engine) -> None:
        client = signed_in(app, new_official(engine))
        assert client.get("/admin/connectors").status_code == 403
        assert client.get("/api/v1/connectors/health").status_code == 401  # no bearer token
