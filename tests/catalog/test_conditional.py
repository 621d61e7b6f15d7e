"""The catalog served from memory over HTTP: ETag and Last-Modified on its pages and JSON, 304 to
If-None-Match and If-Modified-Since, a change served from the next request, the catalog tables
left alone on a warm cache, and a signed-in person's page never kept or shared."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tests.catalog.conftest import department, item
from tests.conftest import sign_in
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import new_citizen
from tests.identity.test_pages import signed_in
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import DepartmentSpec, ItemSpec
from tongban.db.session import unit_of_work

PAGES = ["/", "/items", "/items?q=%E6%8A%A4%E7%85%A7", "/items/SAMR-0001", "/bundles"]
JSON = ["/api/v1/items", "/api/v1/items?q=passport", "/api/v1/items/SAMR-0001"]
JSON += ["/api/v1/departments", "/api/v1/bundles"]
CATALOG_TABLES = ("service_items", "departments", "material_requirements")


def visitor(app: FastAPI, lang: str = "zh_CN") -> TestClient:
    client = TestClient(app)
    client.cookies.set("tongban_lang", lang)
    return client


@pytest.fixture
def own_department(engine: Engine) -> Iterator[str]:
    """A department of this test's own; its items are withdrawn afterwards, so other tests see
    the demo catalog's items only."""
    code = "ZC" + uuid.uuid4().hex[:8].upper()
    with unit_of_work(engine) as session:
        catalog_service.upsert(
            session,
            OPERATOR,
            departments=[DepartmentSpec.model_validate(department(code=code))],
            items=[],
            source="test",
        )
    yield code
    with unit_of_work(engine) as session:
        for found in catalog_service.search(session, OPERATOR, department=code):
            catalog_service.withdraw_item(session, OPERATOR, found.code)


def put(engine: Engine, code: str, dept: str, **changes: Any) -> None:
    spec = ItemSpec.model_validate(item(code, department=dept, **changes))
    with unit_of_work(engine) as session:
        catalog_service.upsert(session, OPERATOR, departments=[], items=[spec], source="test")


class TestValidators:
    @pytest.mark.parametrize("path", PAGES + JSON)
    def test_the_same_answer_is_not_sent_again(self, app: FastAPI, path: str) -> None:
        client = visitor(app)
        first = client.get(path)
        assert first.status_code == 200, first.text
        assert first.headers["cache-control"] == "no-cache"
        etag, modified = first.headers["etag"], first.headers["last-modified"]

        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["last-modified"] == modified

        since = client.get(path, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 1, usegmt=True)
        assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
        # If-None-Match decides when both are sent, and any of several tags matches.
        both = {"If-None-Match": 'W/"other"', "If-Modified-Since": modified}
        assert client.get(path, headers=both).status_code == 200
        several = {"If-None-Match": f'W/"other", {etag}'}
        assert client.get(path, headers=several).status_code == 304

    def test_a_kept_page_is_the_page_rendered(self, app: FastAPI) -> None:
        client = visitor(app, "en")
        first, second = client.get("/items/SAMR-0001"), client.get("/items/SAMR-0001")
        assert first.text == second.text
        assert "Sign in to apply" in second.text
        assert second.headers["content-type"] == "text/html; charset=utf-8"
        assert "frame-ancestors 'none'" in second.headers["content-security-policy"]
        assert "set-cookie" not in second.headers

    def test_each_language_has_its_own_tag(self, app: FastAPI) -> None:
        chinese, english = visitor(app, "zh_CN"), visitor(app, "en")
        zh, en = chinese.get("/"), english.get("/")
        assert zh.headers["etag"] != en.headers["etag"]
        assert "Accept-Language" in zh.headers["vary"]
        assert "Cookie" in zh.headers["vary"]
        answer = english.get("/", headers={"If-None-Match": zh.headers["etag"]})
        assert answer.status_code == 200
        assert "All services" in answer.text

    def test_the_json_is_the_same_for_everyone(self, client: TestClient) -> None:
        anonymous = client.get("/api/v1/items/SAMR-0001")
        headers = {**sign_in(client, "zhangsan"), "If-None-Match": anonymous.headers["etag"]}
        assert client.get("/api/v1/items/SAMR-0001", headers=headers).status_code == 304

    def test_an_unknown_item_is_404_every_time(self, app: FastAPI) -> None:
        client = visitor(app)
        for _ in range(2):
            assert client.get("/items/NOPE-9999").status_code == 404
            assert client.get("/api/v1/items/NOPE-9999").status_code == 404


class TestSignedIn:
    def test_a_signed_in_page_is_neither_validated_nor_kept(
        self, app: FastAPI, engine: Engine
    ) -> None:
        anonymous = visitor(app, "en").get("/")
        citizen = signed_in(app, new_citizen(engine, display_name="甲某人"))
        page = citizen.get("/", headers={"If-None-Match": anonymous.headers["etag"]})
        assert page.status_code == 200
        assert "etag" not in page.headers
        assert page.headers["cache-control"] == "no-store"
        assert "甲某人" in page.text

    def test_one_persons_page_is_never_served_to_another(
        self, app: FastAPI, engine: Engine
    ) -> None:
        first = signed_in(app, new_citizen(engine, display_name="甲某人"))
        second = signed_in(app, new_citizen(engine, display_name="乙某人"))
        for path in ("/", "/items/SAMR-0001", "/bundles"):
            assert "甲某人" in first.get(path).text
            shown = second.get(path).text
            assert "乙某人" in shown
            assert "甲某人" not in shown
            # And a visitor who is not signed in sees no one's name, nor an apply form.
            seen = visitor(app).get(path).text
            assert "甲某人" not in seen
            assert "乙某人" not in seen
            assert 'name="csrf"' not in seen


class TestChanges:
    def test_a_change_is_served_from_the_next_request(
        self, app: FastAPI, engine: Engine, own_department: str
    ) -> None:
        code = f"{own_department}-0001"
        client = visitor(app, "en")
        home = client.get("/")
        tags = {path: client.get(path).headers["etag"] for path in ("/", "/api/v1/items")}
        assert client.get(f"/items/{code}").status_code == 404
        assert client.get(f"/api/v1/items/{code}").status_code == 404

        put(engine, code, own_department, name_en="Kite licence")
        assert "Kite licence" in client.get(f"/items/{code}").text
        assert client.get(f"/api/v1/items/{code}").json()["name_en"] == "Kite licence"
        for path, etag in tags.items():
            answer = client.get(path, headers={"If-None-Match": etag})
            assert answer.status_code == 200, path
            assert answer.headers["etag"] != etag
        assert "Kite licence" in client.get("/").text
        assert "Kite licence" not in home.text

        put(engine, code, own_department, name_en="Kite and balloon licence")
        assert "Kite and balloon licence" in client.get(f"/items/{code}").text
        assert [i["name_en"] for i in client.get(f"/api/v1/items?q={code}").json()] == [
            "Kite and balloon licence"
        ]

        with unit_of_work(engine) as session:
            assert catalog_service.withdraw_item(session, OPERATOR, code)
        assert client.get(f"/items/{code}").status_code == 404
        assert client.get(f"/api/v1/items?q={code}").json() == []
        assert "Kite and balloon licence" not in client.get("/").text

    def test_a_change_rolled_back_changes_nothing(
        self, app: FastAPI, engine: Engine, own_department: str
    ) -> None:
        client = visitor(app)
        before = client.get("/api/v1/items")
        spec = ItemSpec.model_validate(item(f"{own_department}-0002", department=own_department))
        with Session(engine) as session:
            catalog_service.upsert(session, OPERATOR, departments=[], items=[spec], source="test")
            session.flush()
            session.rollback()
        after = client.get("/api/v1/items", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 304

    def test_the_last_modified_time_moves_on_with_every_change(
        self, app: FastAPI, engine: Engine, own_department: str
    ) -> None:
        """Two changes within one second still tell apart by If-Modified-Since."""
        client = visitor(app)
        seen = []
        for name in ("One", "Two", "Three"):
            put(engine, f"{own_department}-0003", own_department, name_en=name)
            seen.append(client.get("/api/v1/items").headers["last-modified"])
            answer = client.get("/api/v1/items", headers={"If-Modified-Since": seen[-1]})
            assert answer.status_code == 304
        times = [parsedate_to_datetime(s) for s in seen]
        assert times == sorted(set(times))


class TestAdministratorsChangeIt:
    def test_put_creates_and_changes_an_item_and_delete_withdraws_it(
        self, client: TestClient, own_department: str
    ) -> None:
        admin = sign_in(client, "admin")
        code = f"{own_department}-0004"
        body = item(code, department=own_department, name_en="Boat licence")
        made = client.put(f"/api/v1/items/{code}", json=body, headers=admin)
        assert made.status_code == 200, made.text
        assert client.get(f"/api/v1/items/{code}").json()["name_en"] == "Boat licence"
        changed = client.put(
            f"/api/v1/items/{code}", json={**body, "name_en": "Ship licence"}, headers=admin
        )
        assert changed.json()["version"] == made.json()["version"] + 1
        assert client.get(f"/api/v1/items/{code}").json()["name_en"] == "Ship licence"

        assert client.delete(f"/api/v1/items/{code}", headers=admin).status_code == 204
        assert client.get(f"/api/v1/items/{code}").status_code == 404
        assert client.delete(f"/api/v1/items/{code}", headers=admin).status_code == 404
        again = client.put(f"/api/v1/items/{code}", json=body, headers=admin)
        assert again.status_code == 200
        assert client.get(f"/api/v1/items/{code}").json()["name_en"] == "Boat licence"

    def test_only_administrators_change_it(
        self, client: TestClient, applicant_headers: dict[str, str], own_department: str
    ) -> None:
        code = f"{own_department}-0005"
        body = item(code, department=own_department)
        assert client.put(f"/api/v1/items/{code}", json=body).status_code == 401
        refused = client.put(f"/api/v1/items/{code}", json=body, headers=applicant_headers)
        assert refused.status_code == 403
        assert (
            client.delete("/api/v1/items/SAMR-0001", headers=applicant_headers).status_code == 403
        )
        assert client.get(f"/api/v1/items/{code}").status_code == 404

    def test_the_code_in_the_address_and_the_body_agree(
        self, client: TestClient, own_department: str
    ) -> None:
        admin = sign_in(client, "admin")
        body = item(f"{own_department}-0006", department=own_department)
        answer = client.put(f"/api/v1/items/{own_department}-0007", json=body, headers=admin)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "code"


class TestWarmCache:
    def test_the_catalog_tables_are_not_read(self, app: FastAPI, engine: Engine) -> None:
        client = visitor(app)
        for path in PAGES + JSON:
            client.get(path)  # warm
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if not statement.startswith("BEGIN"):  # SQLite's, sent by tongban.db.engine
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            for path in PAGES + JSON:
                statements.clear()
                assert client.get(path).status_code == 200
                assert not [s for s in statements if any(t in s for t in CATALOG_TABLES)], path
                # The catalog's version, nothing else (a visitor has no session to look up).
                assert len(statements) == 1, (path, statements)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
