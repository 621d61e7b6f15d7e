"""A walk-in without an account: the counter clerk registers the person (no password), the
case filed at the counter is theirs, and they claim the account online with their ID number
and a code sent to their phone."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import PASSWORD
from tests.audit import helpers as audit_helpers
from tests.conftest import sign_in
from tests.counter.factories import walk_in
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tests.notifications.conftest import Deliver, Recorders
from tests.tracking.test_tracking import code_sent
from tests.web.test_browser import resident_id, with_wrong_check_character
from tongban.applications import service as applications_service
from tongban.counter import service as counter_service
from tongban.db.session import unit_of_work
from tongban.errors import Conflict, Forbidden, InvalidInput
from tongban.identity import credentials, registration, walk_ins
from tongban.identity import service as identity_service
from tongban.identity.errors import ClaimCodeInvalid, SignInFailed
from tongban.identity.models import Account


def _clerk(session) -> Account:  # type: ignore[no-untyped-def]
    clerk = identity_service.get_by_username(session, "counter_clerk")
    assert clerk is not None
    return clerk


def register(engine: Engine, id_number: str, **overrides: str) -> Account:
    with unit_of_work(engine) as session:
        values = {"name": "王小窗", "id_number": id_number, "phone": "13600136000", **overrides}
        return counter_service.register_person(session, _clerk(session), **values)


def test_a_walk_in_is_registered_without_a_password_and_audited(engine: Engine) -> None:
    id_number = resident_id()
    person = register(engine, id_number, email="wang@example.cn")
    assert person.password_hash == credentials.NO_PASSWORD
    assert walk_ins.is_unclaimed(person)
    with unit_of_work(engine) as session:
        with pytest.raises(SignInFailed):
            identity_service.authenticate(
                session, username=person.username, password=credentials.NO_PASSWORD
            )
        entries = audit_helpers.entries_for(
            session, target_type="account", target_id=str(person.id)
        )
        registered = [e for e in entries if e.action == "identity.walk_in_registered"]
        assert len(registered) == 1
        assert registered[0].details == {"id_number": f"***{id_number[-4:]}"}
        # Found by the clerk like anyone else from now on.
        assert counter_service.find_person(session, _clerk(session), id_number=id_number).id == (
            person.id
        )


def test_a_duplicate_resident_id_is_refused_plainly(engine: Engine) -> None:
    id_number = resident_id()
    register(engine, id_number)
    with pytest.raises(Conflict) as caught:
        register(engine, id_number.lower())
    assert caught.value.field == "id_number"
    assert "look the person up" in caught.value.message
    someone = walk_in(engine)
    assert someone.id_number is not None
    with pytest.raises(Conflict):
        register(engine, someone.id_number)


@pytest.mark.parametrize(
    ("field", "value"),
    [("id_number", "check"), ("phone", "0571-8888888"), ("name", ""), ("email", "no-at")],
)
def test_bad_input_is_refused_at_its_field(engine: Engine, field: str, value: str) -> None:
    id_number = resident_id()
    if value == "check":
        id_number = with_wrong_check_character(id_number)
    overrides = {} if field == "id_number" else {field: value}
    with pytest.raises(InvalidInput) as caught:
        register(engine, id_number, **overrides)
    assert caught.value.field == field


def test_only_a_counter_clerk_registers_a_walk_in(engine: Engine) -> None:
    someone = walk_in(engine)
    with unit_of_work(engine) as session, pytest.raises(Forbidden):
        walk_ins.register_walk_in(
            session,
            someone,
            display_name="某人",
            id_number=resident_id(),
            phone="13600136000",
        )


def test_the_person_claims_the_account_and_finds_the_counter_case(
    engine: Engine, deliver: Deliver, recorders: Recorders
) -> None:
    id_number = resident_id()
    person = register(engine, id_number)
    with unit_of_work(engine) as session:
        number = counter_service.open_case(
            session, _clerk(session), id_number=id_number, item_code="SAMR-0001"
        ).number

    with unit_of_work(engine) as session:
        walk_ins.request_claim_code(session, ANONYMOUS, id_number=id_number)
    deliver()
    code = code_sent(recorders, f"account:{person.id}")
    wrong = "000000" if code != "000000" else "111111"
    username = f"claimed_{uuid.uuid4().hex[:8]}"
    with unit_of_work(engine) as session, pytest.raises(ClaimCodeInvalid):
        walk_ins.claim(
            session, OPERATOR, id_number=id_number, code=wrong, username=username, password=PASSWORD
        )
    with unit_of_work(engine) as session:
        claimed = walk_ins.claim(
            session, OPERATOR, id_number=id_number, code=code, username=username, password=PASSWORD
        )
        assert claimed.id == person.id
    with unit_of_work(engine) as session:
        account = identity_service.authenticate(session, username=username, password=PASSWORD)
        assert [a.number for a in applications_service.list_mine(session, account)] == [number]
        # The code was good once, and a claimed account cannot be claimed again.
        with pytest.raises(ClaimCodeInvalid):
            walk_ins.claim(
                session,
                OPERATOR,
                id_number=id_number,
                code=code,
                username="x" + username,
                password=PASSWORD,
            )
        actions = [
            e.action
            for e in audit_helpers.entries_for(
                session, target_type="account", target_id=str(person.id)
            )
        ]
        assert "identity.claim_code_refused" in actions
        assert "identity.account_claimed" in actions


def test_a_code_for_an_id_without_an_unclaimed_account_is_answered_alike(
    engine: Engine, deliver: Deliver, recorders: Recorders
) -> None:
    someone = walk_in(engine)
    assert someone.id_number is not None
    for id_number in (resident_id(), someone.id_number):
        with unit_of_work(engine) as session:
            walk_ins.request_claim_code(session, ANONYMOUS, id_number=id_number)
    deliver()
    assert not [e for e in recorders.sms.sent if e.reference == f"account:{someone.id}"]


def test_registering_online_sends_a_counter_registered_person_a_claim_code(
    engine: Engine, deliver: Deliver, recorders: Recorders
) -> None:
    """Registering online with the ID number of a counter account claims that account: the code
    goes to the phone given at the counter, never to the phone typed in."""
    id_number = resident_id()
    person = register(engine, id_number)
    typed = "13900139002"
    with unit_of_work(engine) as session:
        registration.request(
            session, ANONYMOUS, display_name="王小窗", id_number=id_number, phone=typed
        )
    deliver()
    code = code_sent(recorders, f"account:{person.id}")
    with unit_of_work(engine) as session:
        claimed = registration.finish(
            session,
            ANONYMOUS,
            id_number=id_number,
            code=code,
            username=f"u_{uuid.uuid4().hex[:8]}",
            password=PASSWORD,
        )
        assert claimed.id == person.id
    assert not [e for e in recorders.sms.sent if e.address == typed]


def test_codes_beyond_the_limit_are_withheld_without_saying_so(
    engine: Engine, deliver: Deliver, recorders: Recorders
) -> None:
    """Refusing the fourth request (as it did) told that an unclaimed account exists."""
    id_number = resident_id()
    person = register(engine, id_number)
    for _ in range(walk_ins.MAX_CODES + 2):
        with unit_of_work(engine) as session:
            walk_ins.request_claim_code(session, ANONYMOUS, id_number=id_number)
    deliver()
    sent = [e for e in recorders.sms.sent if e.reference == f"account:{person.id}"]
    assert len(sent) == walk_ins.MAX_CODES


def test_the_api_registers_a_walk_in_and_refuses_a_duplicate(client: TestClient) -> None:
    clerk = sign_in(client, "counter_clerk")
    body = {"name": "钱小窗", "id_number": resident_id(), "phone": "13600136001"}
    created = client.post("/api/v1/counter/people", headers=clerk, json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {"display_name": "钱小窗", "phone_last4": "6001"}
    again = client.post("/api/v1/counter/people", headers=clerk, json=body)
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "id_number"
    found = client.get(f"/api/v1/counter/people/{body['id_number']}", headers=clerk)
    assert found.json()["display_name"] == "钱小窗"
