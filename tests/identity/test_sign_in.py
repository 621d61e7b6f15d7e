"""Sign-in: lockout with backoff, the authenticator (TOTP) second factor, the assurance level a
session records, and sessions' idle and absolute timeouts and revocation.

Time is the tests' own (``moving_clock``): a lock runs out, a session idles, a code goes stale
without anyone waiting.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.audit import helpers as audit_helpers
from tests.conftest import PASSWORD
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import (
    MovingClock,
    Person,
    api_sign_in,
    code,
    load,
    new_citizen,
    new_official,
    unique,
)
from tongban.config import get_settings
from tongban.db.session import unit_of_work
from tongban.errors import Forbidden
from tongban.identity import credentials, repository
from tongban.identity import service as identity_service
from tongban.identity.errors import SignInFailed, TotpInvalid
from tongban.identity.models import Account, WebSession

WRONG = "Wrong username or password."
LIMIT = get_settings().sign_in_max_failures
FIRST_LOCK = timedelta(seconds=get_settings().sign_in_lock_seconds)


def attempt(engine: Engine, username: str, password: str) -> Account | SignInFailed:
    """One password attempt in its own transaction, committed whatever the outcome (as the
    pages and the API do)."""
    with unit_of_work(engine) as session:
        try:
            return identity_service.authenticate(session, username=username, password=password)
        except SignInFailed as refused:
            return refused


def lock_left(engine: Engine, person: Person, moving_clock: MovingClock) -> timedelta:
    locked_until = load(engine, person.username).locked_until
    assert locked_until is not None
    return locked_until - moving_clock.now


def fail(engine: Engine, username: str, times: int) -> None:
    for _ in range(times):
        assert isinstance(attempt(engine, username, "wrong-password"), SignInFailed)


def api_attempt(
    client: TestClient, username: str, password: str, **extra: str
) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/api/v1/session",
        json={"username": username, "password": password, **extra},
        headers={"Accept-Language": "en"},
    )
    return response.status_code, response.json()


class TestLockout:
    def test_after_repeated_failures_even_the_right_password_is_refused(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT - 1)
        assert isinstance(attempt(engine, person.username, PASSWORD), Account)

        fail(engine, person.username, LIMIT)

        refused = attempt(engine, person.username, PASSWORD)
        assert isinstance(refused, SignInFailed)
        assert WRONG in refused.message
        account = load(engine, person.username)
        assert account.failed_logins == LIMIT
        assert account.locked_until == moving_clock.now + FIRST_LOCK

    def test_the_account_opens_again_once_the_lock_has_run_out(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT)

        moving_clock.advance(seconds=FIRST_LOCK.total_seconds() - 1)
        assert isinstance(attempt(engine, person.username, PASSWORD), SignInFailed)
        moving_clock.advance(seconds=1)
        assert isinstance(attempt(engine, person.username, PASSWORD), Account)

    def test_each_further_failure_doubles_the_lock_up_to_the_cap(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT)
        locks = [lock_left(engine, person, moving_clock)]
        for _ in range(8):
            moving_clock.advance(seconds=locks[-1].total_seconds())
            fail(engine, person.username, 1)
            locks.append(lock_left(engine, person, moving_clock))

        cap = timedelta(seconds=get_settings().sign_in_lock_max_seconds)
        expected = [min(FIRST_LOCK * 2**n, cap) for n in range(9)]
        assert locks == expected
        assert locks[-1] == cap

    def test_attempts_while_locked_do_not_count(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT)
        fail(engine, person.username, 3)
        assert load(engine, person.username).failed_logins == LIMIT

    def test_a_finished_sign_in_clears_the_count(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT - 1)
        with unit_of_work(engine) as session:
            account = identity_service.authenticate(
                session, username=person.username, password=PASSWORD
            )
            identity_service.open_session(session, account)
        assert load(engine, person.username).failed_logins == 0
        fail(engine, person.username, LIMIT - 1)
        assert isinstance(attempt(engine, person.username, PASSWORD), Account)

    def test_an_unknown_user_and_a_locked_account_get_the_wrong_password_answer(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        wrong = api_attempt(client, person.username, "wrong-password")
        for _ in range(LIMIT - 1):
            api_attempt(client, person.username, "wrong-password")

        locked = api_attempt(client, person.username, PASSWORD)
        unknown = api_attempt(client, unique("nobody"), PASSWORD)

        assert wrong == locked == unknown
        assert wrong[0] == 401
        assert wrong[1]["error"]["code"] == "unauthenticated"
        assert wrong[1]["error"]["message"].startswith(WRONG)

    def test_through_the_api_the_failures_are_kept_and_the_lock_lifts(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        # The API answers a refusal with an error body; the failure count must survive it.
        person = new_citizen(engine)
        for _ in range(LIMIT):
            assert api_attempt(client, person.username, "wrong-password")[0] == 401
        assert api_attempt(client, person.username, PASSWORD)[0] == 401

        moving_clock.advance(seconds=FIRST_LOCK.total_seconds())

        assert api_attempt(client, person.username, PASSWORD)[0] == 201

    def test_failures_locks_and_refusals_are_audited(
        self, db: Session, engine: Engine, moving_clock: MovingClock
    ) -> None:
        person = new_citizen(engine)
        fail(engine, person.username, LIMIT)
        attempt(engine, person.username, PASSWORD)
        nobody = unique("nobody")
        attempt(engine, nobody, PASSWORD)

        entries = audit_helpers.entries_for(db, target_type="account", target_id=str(person.id))
        failed = [e for e in entries if e.action == "identity.sign_in_failed"]
        assert [e.details["failures"] for e in failed] == list(range(1, LIMIT + 1))
        assert [e.details["locked_until"] is not None for e in failed] == [False] * (LIMIT - 1) + [
            True
        ]
        assert entries[-1].action == "identity.sign_in_refused"
        assert entries[-1].details == {"reason": "locked"}
        unknown = audit_helpers.entries_for(db, target_type="username", target_id=nobody)
        assert [e.action for e in unknown] == ["identity.sign_in_failed"]

    def test_wrong_authenticator_codes_count_towards_the_lock(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        right = code(official.totp_secret)
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(LIMIT):
            status, body = api_attempt(client, official.username, PASSWORD, totp=wrong)
            assert (status, body["error"]["code"]) == (401, "totp_invalid")

        status, body = api_attempt(client, official.username, PASSWORD, totp=right)

        assert (status, body["error"]["code"]) == (401, "unauthenticated")
        moving_clock.advance(seconds=FIRST_LOCK.total_seconds())
        assert (
            api_attempt(client, official.username, PASSWORD, totp=code(official.totp_secret))[0]
            == 201
        )


class TestSecondFactorOverTheApi:
    def test_an_official_without_the_code_is_told_it_is_required(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine)
        status, body = api_attempt(client, official.username, PASSWORD)
        assert status == 401
        assert body["error"]["code"] == "totp_required"
        assert body["error"]["field"] == "totp"

    def test_a_wrong_password_is_refused_before_the_code_is_asked_for(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine)
        status, body = api_attempt(client, official.username, "wrong-password")
        assert (status, body["error"]["code"]) == (401, "unauthenticated")

    def test_password_and_code_give_assurance_level_2(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        response = client.post(
            "/api/v1/session",
            json={
                "username": official.username,
                "password": PASSWORD,
                "totp": code(official.totp_secret),
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["acr"], body["amr"]) == (credentials.ACR_TWO_FACTOR, ["pwd", "otp"])
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
        assert me["roles"] == ["clerk", "reviewer", "approver"]
        assert (me["acr"], me["amr"]) == (credentials.ACR_TWO_FACTOR, ["pwd", "otp"])

    def test_a_citizen_without_an_authenticator_signs_in_at_level_1(
        self, client: TestClient, engine: Engine
    ) -> None:
        status, body = api_attempt(client, new_citizen(engine).username, PASSWORD)
        assert status == 201
        assert (body["acr"], body["amr"]) == (credentials.ACR_PASSWORD, ["pwd"])

    def test_a_code_is_good_only_once(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        used = code(official.totp_secret)
        assert api_attempt(client, official.username, PASSWORD, totp=used)[0] == 201

        status, body = api_attempt(client, official.username, PASSWORD, totp=used)

        assert (status, body["error"]["code"]) == (401, "totp_invalid")
        moving_clock.advance(seconds=30)
        assert (
            api_attempt(client, official.username, PASSWORD, totp=code(official.totp_secret))[0]
            == 201
        )

    def test_the_previous_and_next_codes_are_accepted_but_no_older(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        secret = official.totp_secret
        assert secret
        assert (
            api_attempt(client, official.username, PASSWORD, totp=code(secret, steps=-2))[0] == 401
        )
        assert (
            api_attempt(client, official.username, PASSWORD, totp=code(secret, steps=-1))[0] == 201
        )
        assert (
            api_attempt(client, official.username, PASSWORD, totp=code(secret, steps=1))[0] == 201
        )

    def test_an_official_without_an_authenticator_gets_no_session(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine, totp=False)
        status, body = api_attempt(client, official.username, PASSWORD)
        assert (status, body["error"]["code"]) == (403, "totp_enrolment_required")

    def test_an_officials_password_only_session_is_worth_nothing(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine, totp=False)
        token = open_for(engine, official)  # by password only

        assert not alive(engine, token)
        response = client.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401

    def test_a_citizen_with_an_authenticator_needs_the_code_too(
        self, client: TestClient, engine: Engine
    ) -> None:
        citizen = new_citizen(engine, totp=True)
        assert citizen.totp_secret
        assert (
            api_attempt(client, citizen.username, PASSWORD)[1]["error"]["code"] == "totp_required"
        )
        status, body = api_attempt(
            client, citizen.username, PASSWORD, totp=code(citizen.totp_secret)
        )
        assert status == 201
        assert body["acr"] == credentials.ACR_TWO_FACTOR


class TestEnrolment:
    def test_a_citizen_turns_two_step_sign_in_on_and_then_needs_the_code(
        self, client: TestClient, engine: Engine
    ) -> None:
        citizen = new_citizen(engine)
        headers = api_sign_in(client, citizen)

        enrolment = client.post("/api/v1/me/totp", headers=headers).json()
        again = client.post("/api/v1/me/totp", headers=headers).json()
        assert again["secret"] == enrolment["secret"], "a reload keeps the secret being set up"
        assert enrolment["uri"].startswith("otpauth://totp/")
        assert enrolment["qr"].startswith("data:image/svg+xml")
        wrong = client.post("/api/v1/me/totp/confirm", headers=headers, json={"code": "12345x"})
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "totp_invalid")
        assert api_attempt(client, citizen.username, PASSWORD)[0] == 201, "not on until confirmed"

        confirmed = client.post(
            "/api/v1/me/totp/confirm", headers=headers, json={"code": code(enrolment["secret"])}
        )

        assert confirmed.status_code == 204
        assert (
            api_attempt(client, citizen.username, PASSWORD)[1]["error"]["code"] == "totp_required"
        )
        assert client.get("/api/v1/me", headers=headers).json()["totp_enabled"] is True

    def test_a_citizen_turns_it_off_with_a_current_code(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        citizen = new_citizen(engine, totp=True)
        assert citizen.totp_secret
        headers = api_sign_in(client, citizen)
        used = code(citizen.totp_secret)
        refused = client.post("/api/v1/me/totp/disable", headers=headers, json={"code": used})
        assert refused.status_code == 401, "the code used to sign in is spent"
        moving_clock.advance(seconds=30)

        response = client.post(
            "/api/v1/me/totp/disable", headers=headers, json={"code": code(citizen.totp_secret)}
        )

        assert response.status_code == 204
        assert api_attempt(client, citizen.username, PASSWORD)[0] == 201

    def test_an_official_cannot_turn_it_off(
        self, client: TestClient, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        headers = api_sign_in(client, official)
        moving_clock.advance(seconds=30)
        response = client.post(
            "/api/v1/me/totp/disable", headers=headers, json={"code": code(official.totp_secret)}
        )
        assert response.status_code == 403
        assert load(engine, official.username).totp_enabled

    def test_setting_up_twice_is_a_conflict(self, client: TestClient, engine: Engine) -> None:
        citizen = new_citizen(engine, totp=True)
        response = client.post("/api/v1/me/totp", headers=api_sign_in(client, citizen))
        assert (response.status_code, response.json()["error"]["code"]) == (
            409,
            "totp_already_enabled",
        )


class TestOperatorTotp:
    def test_sets_up_an_official_without_an_authenticator(
        self, db: Session, engine: Engine
    ) -> None:
        official = new_official(engine, totp=False)
        result = identity_service.operator_totp(db, OPERATOR, username=official.username)
        assert result.enrolled_now
        assert result.account.totp_enabled
        assert credentials.valid_totp_secret(result.secret)

    def test_shows_the_existing_secret_without_changing_it(
        self, db: Session, engine: Engine
    ) -> None:
        official = new_official(engine)
        result = identity_service.operator_totp(db, OPERATOR, username=official.username)
        assert not result.enrolled_now
        assert result.secret == official.totp_secret

    def test_reset_makes_a_new_secret_and_ends_the_sessions(
        self, client: TestClient, engine: Engine
    ) -> None:
        official = new_official(engine)
        headers = api_sign_in(client, official)
        with unit_of_work(engine) as session:
            result = identity_service.operator_totp(
                session, OPERATOR, username=official.username, reset=True
            )
        assert result.secret != official.totp_secret
        assert result.sessions_ended == 1
        assert client.get("/api/v1/me", headers=headers).status_code == 401

    def test_nobody_signed_in_may_do_it(self, db: Session) -> None:
        admin = identity_service.get_by_username(db, "admin")
        with pytest.raises(Forbidden):
            identity_service.operator_totp(db, admin, username="samr_officer")


def session_row(engine: Engine, token: str) -> WebSession:
    with unit_of_work(engine) as session:
        found = session.execute(
            select(WebSession).where(WebSession.token_hash == repository.token_hash(token))
        ).scalar_one()
        return found


def open_for(engine: Engine, person: Person) -> str:
    with unit_of_work(engine) as session:
        account = session.get_one(Account, person.id)
        return identity_service.open_session(session, account)


def alive(engine: Engine, token: str) -> bool:
    with unit_of_work(engine) as session:
        return identity_service.session_for_token(session, token) is not None


class TestSessionTimeouts:
    def test_a_session_left_idle_too_long_ends(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        token = open_for(engine, new_citizen(engine))
        idle = get_settings().session_idle_minutes
        moving_clock.advance(minutes=idle, seconds=-1)
        assert alive(engine, token)
        moving_clock.advance(minutes=idle, seconds=-1)
        assert alive(engine, token), "using it restarted the idle time"
        moving_clock.advance(minutes=idle)
        assert not alive(engine, token)

    def test_a_session_in_use_still_ends_at_its_absolute_limit(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        start = moving_clock.now
        token = open_for(engine, new_citizen(engine))
        end = start + timedelta(hours=get_settings().session_hours)
        step = timedelta(minutes=get_settings().session_idle_minutes - 1)
        while moving_clock.now + step < end:
            moving_clock.advance(seconds=step.total_seconds())
            assert alive(engine, token)
        moving_clock.now = end
        assert not alive(engine, token)

    def test_last_use_is_written_at_most_once_a_minute(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        start = moving_clock.now
        token = open_for(engine, new_citizen(engine))
        moving_clock.advance(seconds=59)
        assert alive(engine, token)
        assert session_row(engine, token).last_seen_at == start
        moving_clock.advance(seconds=1)
        assert alive(engine, token)
        assert session_row(engine, token).last_seen_at == moving_clock.now

    def test_an_unfinished_sign_in_lasts_minutes_and_authorises_nothing(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        with unit_of_work(engine) as session:
            token, pending = identity_service.start_sign_in(
                session, session.get_one(Account, official.id)
            )
        assert pending == "otp"
        assert not alive(engine, token)
        with unit_of_work(engine) as session:
            assert identity_service.pending_sign_in(session, token) is not None
        moving_clock.advance(minutes=get_settings().sign_in_step_minutes)
        with unit_of_work(engine) as session:
            assert identity_service.pending_sign_in(session, token) is None

    def test_finishing_sign_in_replaces_the_token(
        self, engine: Engine, moving_clock: MovingClock
    ) -> None:
        official = new_official(engine)
        assert official.totp_secret
        with unit_of_work(engine) as session:
            account = session.get_one(Account, official.id)
            token, _ = identity_service.start_sign_in(session, account)
            identity_service.check_totp(session, account, code(official.totp_secret))
            finished = identity_service.finish_sign_in(session, token)
        assert finished != token
        assert alive(engine, finished)
        assert not alive(engine, token)
        row = session_row(engine, finished)
        assert (row.acr, row.amr, row.pending) == (credentials.ACR_TWO_FACTOR, ["pwd", "otp"], None)

    def test_a_wrong_code_in_the_second_step_is_refused(self, db: Session, engine: Engine) -> None:
        official = new_official(engine)
        with pytest.raises(TotpInvalid):
            identity_service.check_totp(db, db.get_one(Account, official.id), "abcdef")


class TestRevocation:
    def test_lists_my_live_sessions_and_marks_this_one(
        self, client: TestClient, engine: Engine
    ) -> None:
        citizen = new_citizen(engine)
        first = api_sign_in(client, citizen)
        api_sign_in(client, citizen)

        sessions = client.get("/api/v1/sessions", headers=first).json()

        assert len(sessions) == 2
        assert [s["current"] for s in sessions].count(True) == 1

    def test_ending_one_session_leaves_the_others(self, client: TestClient, engine: Engine) -> None:
        citizen = new_citizen(engine)
        laptop, phone = api_sign_in(client, citizen), api_sign_in(client, citizen)
        phone_id = next(
            s["id"] for s in client.get("/api/v1/sessions", headers=phone).json() if s["current"]
        )

        assert client.delete(f"/api/v1/sessions/{phone_id}", headers=laptop).status_code == 204

        assert client.get("/api/v1/me", headers=phone).status_code == 401
        assert client.get("/api/v1/me", headers=laptop).status_code == 200

    def test_someone_elses_session_is_not_found(self, client: TestClient, engine: Engine) -> None:
        mine, theirs = new_citizen(engine), new_citizen(engine)
        their_headers = api_sign_in(client, theirs)
        their_id = client.get("/api/v1/sessions", headers=their_headers).json()[0]["id"]

        response = client.delete(f"/api/v1/sessions/{their_id}", headers=api_sign_in(client, mine))

        assert response.status_code == 404
        assert client.get("/api/v1/me", headers=their_headers).status_code == 200

    def test_signing_out_everywhere_ends_every_session(
        self, client: TestClient, engine: Engine, db: Session
    ) -> None:
        citizen = new_citizen(engine)
        all_headers = [api_sign_in(client, citizen) for _ in range(3)]

        response = client.delete("/api/v1/sessions", headers=all_headers[0])

        assert response.json() == {"ended": 3}
        assert all(client.get("/api/v1/me", headers=h).status_code == 401 for h in all_headers)
        entries = audit_helpers.entries_for(db, target_type="account", target_id=str(citizen.id))
        assert entries[-1].action == "identity.signed_out_everywhere"

    def test_signing_out_ends_this_session(self, client: TestClient, engine: Engine) -> None:
        headers = api_sign_in(client, new_citizen(engine))
        assert client.delete("/api/v1/session", headers=headers).status_code == 204
        assert client.get("/api/v1/me", headers=headers).status_code == 401
