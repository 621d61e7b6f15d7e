"""Each role lands on its own start page after signing in, never on a page it may not open."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.identity.factories import Person, code, new_citizen, new_official
from tests.identity.test_pages import csrf, password_step, web_client
from tongban.identity.models import AccountKind


def account(engine: Engine, kind: AccountKind, roles: tuple[str, ...]) -> Person:
    if kind is AccountKind.APPLICANT:
        return new_citizen(engine)
    return new_official(engine, roles=roles, kind=kind)


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
