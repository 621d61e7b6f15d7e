"""A department application covers several items of a bundle; wherever one item is asked about,
the application counts for each item it covers, not only for the first: the case search and its
export, the evidence grades and ratings per item, the once-only prefill when the bundle starts,
and the counter's list of originals to check."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.analytics.test_ratings import ONLINE
from tests.applications.test_roles import page_client
from tests.bundles.test_bundles import approve, complete
from tests.bundles.test_departments import _submitted_shop
from tests.catalog.conftest import department as catalog_department
from tests.catalog.conftest import item as catalog_item
from tests.catalog.conftest import write_catalog
from tests.conftest import sign_in
from tests.connectors.conftest import systems_registered
from tests.connectors.test_prefill import citizen
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import ANONYMOUS, OPERATOR
from tests.identity.factories import load
from tongban.analytics import service as analytics_service
from tongban.applications import repository
from tongban.applications import service as applications_service
from tongban.bundles import service as bundles_service
from tongban.catalog import service as catalog_service
from tongban.connectors.models import OutboxMessage
from tongban.db.session import unit_of_work
from tongban.evaluations import service as evaluations_service
from tongban.identity.models import Account
from tongban.security import service as security_service
from tongban.security.models import ChangeKind


def _samr_number(engine: Engine, client: TestClient) -> str:
    return _samr_application(engine, client)[1]


def _samr_application(engine: Engine, client: TestClient) -> tuple[dict[str, str], str]:
    """The applicant's headers and the market regulator's application of a submitted shop
    bundle (registration and food licence)."""
    headers, _, body = _submitted_shop(engine, client)
    number = next(a["number"] for a in body["applications"] if a["item_code"] == "SAMR-0003")
    return headers, str(number)


class TestCaseSearch:
    def test_a_department_application_is_found_by_each_item_it_covers(
        self, engine: Engine, client: TestClient
    ) -> None:
        number = _samr_number(engine, client)
        officer = sign_in(client, "samr_officer")
        for item in ("SAMR-0001", "SAMR-0003"):
            found = client.get("/api/v1/cases", params={"item": item}, headers=officer)
            assert found.status_code == 200, found.text
            rows = {r["number"]: r for r in found.json()["rows"]}
            assert number in rows, item
            assert rows[number]["items"] == "SAMR-0001, SAMR-0003"
        exported = client.get("/api/v1/cases.csv", params={"item": "SAMR-0003"}, headers=officer)
        rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert next(r for r in rows if r["number"] == number)["items"] == "SAMR-0001, SAMR-0003"

    def test_the_search_page_names_the_items_of_each_case(
        self, engine: Engine, client: TestClient, app: FastAPI
    ) -> None:
        number = _samr_number(engine, client)
        pages = page_client(app, "samr_officer")
        page = pages.get("/queue/search", params={"item": "SAMR-0003", "lang": "zh_CN"})
        assert page.status_code == 200
        row = next(r for r in page.text.split('data-testid="result-row"') if number in r)
        assert "个体工商户设立登记、食品经营许可" in row

    def test_a_field_another_covered_item_labels_higher_is_protected_by_that_label(
        self, engine: Engine, client: TestClient
    ) -> None:
        number = _samr_number(engine, client)
        # In a session that is never committed: the label change stays out of the other tests.
        officer, proposer, approver = (
            load(engine, name) for name in ("samr_officer", "secadmin_a", "secadmin_b")
        )
        with Session(engine) as session:
            before = applications_service.search_cases(session, officer, item_code="SAMR-0001")
            assert "operator_name" in before.usable
            clear = next(r for r in before.rows if r["number"] == number)["operator_name"]
            change = security_service.propose_change(
                session,
                proposer,
                kind=ChangeKind.LABEL,
                target="SAMR-0003.operator_name",
                value="core:identity",
                reason="食品经营者信息从严",
            )
            security_service.decide_change(session, approver, change.id, approve=True)
            # Searched by the registration, whose own label on the field has not changed.
            after = applications_service.search_cases(session, officer, item_code="SAMR-0001")
            assert "operator_name" not in after.usable
            row = next(r for r in after.rows if r["number"] == number)
            assert row.get("operator_name") != clear


class TestNames:
    def test_the_applicant_and_the_department_system_see_every_items_name(
        self, engine: Engine, client: TestClient, tmp_path: Path
    ) -> None:
        with systems_registered(engine, "SAMR") as register:
            register(
                [
                    {
                        "name": "register",
                        "kind": "database",
                        "config": {"url": f"sqlite:///{tmp_path / 'd.db'}", "table": "t"},
                        "mapping": {"number": "sqbh", "item_name": "sxmc"},
                        "events": ["application.submitted"],
                    }
                ]
            )
            headers, number = _samr_application(engine, client)
            with unit_of_work(engine) as session:
                payloads = [
                    m.payload
                    for m in session.scalars(
                        select(OutboxMessage).where(OutboxMessage.aggregate_id == number)
                    )
                ]
        mine = client.get(f"/api/v1/applications/{number}", headers=headers).json()
        assert (mine["item_name_zh"], mine["item_name_en"]) == (
            "个体工商户设立登记、食品经营许可",
            "Registration of an individual business; Food business licence",
        )
        listed = client.get("/api/v1/applications", headers=headers).json()
        assert next(a for a in listed if a["number"] == number)["item_name_zh"] == (
            "个体工商户设立登记、食品经营许可"
        )
        assert payloads, "the submission was published to the market regulator's system"
        assert {p["item_name"] for p in payloads} == {"个体工商户设立登记、食品经营许可"}


class TestFigures:
    def test_its_materials_count_under_each_item_asking_for_them(
        self, engine: Engine, client: TestClient
    ) -> None:
        def counts() -> Counter[tuple[str, str]]:
            with unit_of_work(engine) as session:
                return Counter(
                    {
                        (g.item_code, g.material): sum(g.counts.values())
                        for g in analytics_service.evidence_grades(session, OPERATOR)
                    }
                )

        before = counts()
        number = _samr_number(engine, client)
        added = counts() - before
        with unit_of_work(engine) as session:
            application = repository.by_number(session, number)
            assert application is not None
            uploaded = Counter(m.requirement_code for m in application.materials)
            for item in application.items:
                asked = {r.code for r in item.materials}
                assert {
                    code: n for (code_of, code), n in added.items() if code_of == item.code
                } == {code: n for code, n in uploaded.items() if code in asked}, item.code
        assert any(code == "SAMR-0003" for code, _ in added)

    def test_its_rating_counts_for_each_item_and_once_for_the_department(
        self, engine: Engine, client: TestClient
    ) -> None:
        def counts() -> dict[str, int]:
            with unit_of_work(engine) as session:
                found = evaluations_service.satisfaction(session, ANONYMOUS)
            return {f.code: f.count for f in [*found.departments, *found.items]}

        headers, number = _samr_application(engine, client)
        approve(engine, "samr_officer", number)
        complete(engine, "samr_officer", number)
        before = counts()
        rated = client.post(
            f"/api/v1/applications/{number}/evaluation",
            headers=headers,
            json={"indicators": dict.fromkeys(ONLINE, 5), "comment": "一次办好"},
        )
        assert rated.status_code == 201, rated.text
        after = counts()
        assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k)} == {
            "SAMR": 1,
            "SAMR-0001": 1,
            "SAMR-0003": 1,
        }


def _field(name: str, label: str, *, source: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "security_label": label,
        "type": "text",
        "label_zh": name,
        "label_en": name,
    }
    return spec | ({"source": source} if source else {})


def _item(code: str, fields: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    return catalog_item(
        code,
        department=code.split("-")[0],
        name_zh=f"事项{code}",
        name_en=f"Item {code}",
        fields=fields,
        **changes,
    )


@pytest.fixture(scope="module")
def pair(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A department of its own with two items, the second asking for the applicant's ID number
    and phone (held by the government) besides the name both ask for, and for a permit to be
    checked against the original at a counter; and a directory with a bundle of the two
    (``<department>-PAIR``): the department's code and the directory."""
    department = "P" + uuid.uuid4().hex[:6].upper()
    name = _field("operator_name", "internal:identity", source="applicant.name")
    permit = {
        "code": "premises_permit",
        "name_zh": "场所许可证",
        "name_en": "Premises permit",
        "form": "original",
        "required": False,
        "types": ["pdf"],
        "max_mb": 5,
        "required_grade": "B",
    }
    items = [
        _item(f"{department}-0001", [_field("shop_name", "public"), name], materials=[]),
        _item(
            f"{department}-0002",
            [
                name,
                _field("operator_id_number", "important:identity", source="applicant.id_number"),
                _field("operator_phone", "internal:identity", source="applicant.phone"),
            ],
            materials=[permit],
        ),
    ]
    root = write_catalog(
        tmp_path_factory.mktemp("catalog"),
        departments=[catalog_department(code=department)],
        items={"p.yaml": items},
    )
    with unit_of_work(engine) as session:
        catalog_service.load_catalog(session, OPERATOR, root)
    bundles = tmp_path_factory.mktemp("bundles")
    (bundles / "pair.yaml").write_text(
        yaml.safe_dump(
            {
                "code": f"{department}-PAIR",
                "name_zh": "两项一次办",
                "name_en": "Two items at once",
                "items": [
                    {"key": "first", "item": f"{department}-0001", "always": True},
                    {"key": "second", "item": f"{department}-0002", "always": True},
                ],
            },
            allow_unicode=True,
        )
    )
    return department, bundles


PERSON_ID = "110101199208150023"


def _start_pair(
    engine: Engine, pair: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Account, int]:
    """The pair bundle started by a citizen with a verified identity: they and the case id."""
    department, directory = pair
    monkeypatch.setattr(bundles_service, "bundles_dir", lambda: directory)
    person = citizen(engine, PERSON_ID)
    with unit_of_work(engine) as session:
        case = bundles_service.start(session, person, code=f"{department}-PAIR", answers={})
        return person, case.id


class TestPrefill:
    def test_the_fields_of_every_covered_item_are_prefilled(
        self, engine: Engine, pair: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        department, _ = pair
        person, case_id = _start_pair(engine, pair, monkeypatch)
        with unit_of_work(engine) as session:
            (application,) = applications_service.bundle_applications(session, person, case_id)
            assert [i.code for i in application.items] == [
                f"{department}-0001",
                f"{department}-0002",
            ]
            form = applications_service.disclose(session, person, application).values
            states = applications_service.prefill_states(application)
            stored = dict(application.sealed_form)
        assert form["operator_name"] == person.display_name
        assert form["operator_id_number"] == PERSON_ID
        assert form["operator_phone"] == "13600136000"
        assert states["operator_id_number"].source == "applicant.id_number"
        assert states["operator_phone"].verified is True
        # Sealed at rest as the covered item's label asks.
        assert set(stored["operator_id_number"]) == {"sealed"}


class TestCounter:
    def test_originals_to_check_name_every_item_of_the_application(
        self,
        engine: Engine,
        client: TestClient,
        app: FastAPI,
        pair: tuple[str, Path],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        department, _ = pair
        person, case_id = _start_pair(engine, pair, monkeypatch)
        with unit_of_work(engine) as session:
            bundles_service.add_material(
                session,
                person,
                case_id,
                requirement_code="premises_permit",
                filename="permit.pdf",
                stream=io.BytesIO(pdf_bytes()),
            )
            (application,) = applications_service.bundle_applications(session, person, case_id)
            number = application.number
        waiting = client.get(
            f"/api/v1/counter/people/{PERSON_ID}/originals",
            headers=sign_in(client, "counter_clerk"),
        )
        assert waiting.status_code == 200, waiting.text
        (row,) = [w for w in waiting.json() if w["number"] == number]
        assert (row["item_code"], row["covered_item_codes"]) == (
            f"{department}-0001",
            [f"{department}-0002"],
        )
        page = page_client(app, "counter_clerk").get(
            "/counter", params={"id_number": PERSON_ID, "lang": "zh_CN"}
        )
        assert page.status_code == 200
        listed = page.text.split(f'data-testid="original-{row["material_id"]}"')[1]
        assert f"事项{department}-0001、事项{department}-0002" in listed.split("</li>")[0]
