"""The pages that open an account (/register) or claim one (/claim) answer the same whatever
the ID number has (issue 18, item 5): a new one, one with an account, one with an account
opened at a counter, and one whose counter account has had its codes for now."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.counter.factories import walk_in
from tests.fixtures.forms import csrf
from tests.identity.test_pages import web_client
from tests.identity.test_registration_api import _counter_walk_in, fresh_id_number, fresh_phone
from tongban.identity import walk_ins


def _answers(client: TestClient, path: str, ids: list[str], **fields: str) -> set[tuple[int, str]]:
    """Each answer's status and page, with the ID number typed in (which the next step's form
    carries back) taken out."""
    token = csrf(client.get(path).text)
    seen = set()
    for id_number in ids:
        response = client.post(path, data={"csrf": token, "id_number": id_number, **fields})
        seen.add((response.status_code, response.text.replace(id_number, "ID")))
    return seen


def _ids(engine: Engine) -> list[str]:
    holder = walk_in(engine)
    assert holder.id_number is not None
    counter_id, spent_id = fresh_id_number(), fresh_id_number()
    _counter_walk_in(engine, counter_id, fresh_phone())
    _counter_walk_in(engine, spent_id, fresh_phone())
    return [fresh_id_number(), holder.id_number, counter_id, *[spent_id] * (walk_ins.MAX_CODES + 1)]


class TestTheSameAnswer:
    def test_register_answers_alike(self, app: FastAPI, engine: Engine) -> None:
        client = web_client(app)
        # With a username and password too, as the one-step form took them.
        fields = {
            "display_name": "王小明",
            "phone": fresh_phone(),
            "username": f"u{uuid.uuid4().hex[:10]}",
            "password": "a-long-password",
        }
        answers = _answers(client, "/register", _ids(engine), **fields)
        assert len(answers) == 1, answers
        ((status, page),) = answers
        assert status == 200
        assert 'action="/register/finish"' in page

    def test_claim_answers_alike(self, app: FastAPI, engine: Engine) -> None:
        client = web_client(app)
        answers = _answers(client, "/claim", _ids(engine))
        assert len(answers) == 1, answers
        ((status, page),) = answers
        assert status == 200
        assert 'action="/claim/finish"' in page
