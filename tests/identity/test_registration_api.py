"""Citizens open their own applicant accounts through the API: details, then the code sent to
their phone with a username and password. The first answer is the same whether or not the ID
number has an account (issue 18, item 5): the holder of an existing account is told through
their own channel instead, and nobody else learns anything."""

from __future__ import annotations

import random
import uuid

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from tests.conftest import sign_in
from tests.counter.factories import walk_in
from tests.fixtures.principals import OPERATOR
from tests.notifications.conftest import Deliver, Recorders, deliver, recorders, sms_code_to
from tongban.counter import service as counter_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.errors import AccountNotFound
from tongban.identity.numbers import resident_id_check_character

__all__ = ["deliver", "recorders"]


def fresh_id_number() -> str:
    body = f"330102{random.randint(1950, 2005)}0{random.randint(1, 9)}1{random.randint(0, 8)}"
    body += f"{random.randint(0, 999):03d}"
    return body + resident_id_check_character(body)


def fresh_phone() -> str:
    return f"137{random.randint(0, 99_999_999):08d}"


def registration(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "王小明",
        "id_number": fresh_id_number(),
        "phone": fresh_phone(),
    } | overrides


def finish(client: TestClient, id_number: str, code: str, **overrides: str) -> Response:
    body = {
        "id_number": id_number,
        "code": code,
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": "a-long-password",
    } | overrides
    return client.post("/api/v1/accounts/confirm", json=body)


class TestRegister:
    def test_new_citizen_registers_with_the_code_and_signs_in(
        self, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        body = registration()
        response = client.post("/api/v1/accounts", json=body)
        assert response.status_code == 202, response.text
        deliver()
        username = f"u{uuid.uuid4().hex[:10]}"
        code = sms_code_to(recorders, body["phone"])
        opened = client.post(
            "/api/v1/accounts/confirm",
            json={
                "id_number": body["id_number"],
                "code": code,
                "username": username,
                "password": "a-long-password",
            },
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["kind"] == "applicant"
        headers = sign_in(client, username, "a-long-password")
        me = client.get("/api/v1/me", headers=headers).json()
        assert me["display_name"] == "王小明"
        # The code opened one account, once.
        again = finish(client, body["id_number"], code)
        assert again.status_code == 401

    def test_a_wrong_code_opens_nothing(
        self, client: TestClient, engine: Engine, deliver: Deliver, recorders: Recorders
    ) -> None:
        body = registration()
        client.post("/api/v1/accounts", json=body)
        deliver()
        code = sms_code_to(recorders, body["phone"])
        wrong = "000000" if code != "000000" else "111111"
        refused = finish(client, body["id_number"], wrong)
        assert refused.status_code == 401
        assert refused.json()["error"]["field"] == "code"
        with unit_of_work(engine) as session, pytest.raises(AccountNotFound):
            identity_service.find_applicant(session, OPERATOR, body["id_number"])

    def test_bad_check_digit_is_refused_naming_the_field(self, client: TestClient) -> None:
        good = fresh_id_number()
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        response = client.post("/api/v1/accounts", json=registration(id_number=bad))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "id_number"

    def test_a_phone_is_needed_for_the_code(self, client: TestClient) -> None:
        response = client.post("/api/v1/accounts", json=registration(phone="12345"))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "phone"

    def test_taken_username_is_409(
        self, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        body = registration()
        client.post("/api/v1/accounts", json=body)
        deliver()
        code = sms_code_to(recorders, body["phone"])
        response = finish(client, body["id_number"], code, username="zhangsan")
        assert response.status_code == 409
        assert response.json()["error"]["field"] == "username"

    def test_short_password_is_refused(
        self, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        body = registration()
        client.post("/api/v1/accounts", json=body)
        deliver()
        code = sms_code_to(recorders, body["phone"])
        response = finish(client, body["id_number"], code, password="short")
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "password"

    def test_signed_in_subject_cannot_register_another_account(self, client: TestClient) -> None:
        headers = sign_in(client, "zhangsan")
        response = client.post("/api/v1/accounts", json=registration(), headers=headers)
        assert response.status_code == 403


def _counter_walk_in(engine: Engine, id_number: str, phone: str) -> None:
    with unit_of_work(engine) as session:
        clerk = identity_service.get_by_username(session, "counter_clerk")
        counter_service.register_person(
            session, clerk, name="王小窗", id_number=id_number, phone=phone
        )


class TestNobodyLearnsWhoHasAnAccount:
    """Issue 18, item 5: ``409 该身份证号码已注册账户`` (and another message for a walk-in)
    told anyone which ID numbers have accounts."""

    def test_the_answer_is_the_same_for_a_new_a_registered_and_a_walk_in_id_number(
        self, client: TestClient, engine: Engine, deliver: Deliver, recorders: Recorders
    ) -> None:
        holder = walk_in(engine)
        assert holder.id_number is not None
        counter_id, counter_phone = fresh_id_number(), fresh_phone()
        _counter_walk_in(engine, counter_id, counter_phone)
        stranger_phone = fresh_phone()
        answers = []
        for id_number in (fresh_id_number(), holder.id_number, counter_id):
            for lang in ("zh-CN", "en"):
                # With a username and password too, as the one-step registration took them.
                body = registration(id_number=id_number, phone=stranger_phone) | {
                    "username": f"u{uuid.uuid4().hex[:10]}",
                    "password": "a-long-password",
                }
                response = client.post(
                    "/api/v1/accounts", json=body, headers={"Accept-Language": lang}
                )
                # The date and the request id (random, per request) say nothing of the account.
                headers = sorted(
                    (k, v) for k, v in response.headers.items() if k not in ("date", "x-request-id")
                )
                answers.append((lang, response.status_code, tuple(headers), response.content))
        for lang in ("zh-CN", "en"):
            same = {answer for answer in answers if answer[0] == lang}
            assert len(same) == 1, same
        assert answers[0][1] == 202

        deliver()
        # Only the new ID number's code went to the phone typed in; the counter's person got a
        # claim code on the phone given at the counter; the holder was told on theirs.
        to_stranger = [e for e in recorders.sms.sent if e.address == stranger_phone]
        assert len(to_stranger) == 2  # the new ID number, in two languages: two codes
        claim = [e for e in recorders.sms.sent if e.address == counter_phone]
        assert claim
        assert "认领账号的验证码" in claim[-1].body
        told = [e for e in recorders.sms.sent if e.address == holder.phone and "注册" in e.body]
        assert told
        assert "有人尝试用您的身份证号码注册新账号" in told[-1].body
        assert [e for e in recorders.email.sent if e.address == holder.email]

    def test_the_holder_is_told_once_a_day_however_often_someone_tries(
        self, client: TestClient, engine: Engine, deliver: Deliver, recorders: Recorders
    ) -> None:
        holder = walk_in(engine)
        for _ in range(4):
            response = client.post(
                "/api/v1/accounts", json=registration(id_number=holder.id_number)
            )
            assert response.status_code == 202
        deliver()
        told = [e for e in recorders.sms.sent if e.address == holder.phone and "注册" in e.body]
        assert len(told) == 1

    def test_a_walk_in_registering_online_claims_the_counter_account(
        self, client: TestClient, engine: Engine, deliver: Deliver, recorders: Recorders
    ) -> None:
        id_number, phone = fresh_id_number(), fresh_phone()
        _counter_walk_in(engine, id_number, phone)
        response = client.post("/api/v1/accounts", json=registration(id_number=id_number))
        assert response.status_code == 202
        deliver()
        username = f"u{uuid.uuid4().hex[:10]}"
        opened = finish(client, id_number, sms_code_to(recorders, phone), username=username)
        assert opened.status_code == 201, opened.text
        with unit_of_work(engine) as session:
            account = identity_service.find_applicant(session, OPERATOR, id_number)
            assert account is not None
            assert account.username == username
            # The counter's account, with the counter's phone: not a second account.
            assert account.phone == phone

    def test_a_phone_is_not_flooded_with_codes(
        self, client: TestClient, deliver: Deliver, recorders: Recorders
    ) -> None:
        phone = fresh_phone()
        for _ in range(6):
            response = client.post("/api/v1/accounts", json=registration(phone=phone))
            assert response.status_code == 202
        deliver()
        assert len([e for e in recorders.sms.sent if e.address == phone]) == 3
