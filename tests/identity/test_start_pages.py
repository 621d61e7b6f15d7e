"""Each role lands on its own start page after signing in, never on a page it may not open."""

from __future__ import annotations

import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.identity.factories import Person, code, unique
from tests.identity.test_pages import csrf, password_step, web_client
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind


def account(engine: Engine, kind: AccountKind, roles: tuple[str, ...]) -> Person:
    secret = None if kind is AccountKind.APPLICANT else pyotp.random_base32()
    with unit_of_work(engine) as session:
        department = (
            catalog_service.get_department(session, None, "SAMR").id
            if kind is AccountKind.OFFICIAL
            else None
        )
        created = identity_service.create_account(
            session,
            None,
            username=unique("home"),
            password=PASSWORD,
            display_name="起始页测试",
            kind=kind,
            department_id=department,
            roles=roles,
            totp_secret=secret,
        )
        return Person(created.username, created.id, secret, kind=kind, roles=list(roles))


@pytest.mark.parametrize(
    ("kind", "roles", "start"),
    [
        (AccountKind.APPLICANT, (), "/applications"),
        (AccountKind.OFFICIAL, ("clerk", "reviewer", "approver"), "/queue"),
        (AccountKind.OFFICIAL, ("counter_clerk",), "/counter"),
        (AccountKind.OFFICIAL, ("supervisor",), "/analytics"),
        (AccountKind.OFFICIAL, ("dpo",), "/dpo/objections"),
        (AccountKind.ADMIN, (), "/admin/connectors"),
        (AccountKind.ADMIN, ("security_admin",), "/admin/security"),
    ],
)
def test_each_role_lands_on_a_page_of_its_own(
    app: FastAPI, engine: Engine, kind: AccountKind, roles: tuple[str, ...], start: str
) -> None:
    person = account(engine, kind, roles)
    client = web_client(app)
    landed = password_step(client, person)
    if landed.startswith("/login/code"):
        assert person.totp_secret
        step = client.get(landed)
        response = client.post(
            "/login/code",
            data={"csrf": csrf(step.text), "code": code(person.totp_secret), "next": ""},
        )
        assert response.status_code == 303, response.text
        landed = response.headers["location"]
    assert landed == start
    page = client.get(landed, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text[:300]
