"""Bundles ("one thing, one go"): bad files refused with the line at fault; the questionnaire;
one merged form and material list; one submission making one linked application per department;
dependent items starting on their predecessor's approval; combined progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.applications.factories import _file_for, form_values, take
from tests.conftest import sign_in
from tests.fixtures.files import pdf_bytes
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.bundles import files
from tongban.bundles.errors import BundleFileInvalid
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account

GOOD = """\
code: TEST-BUNDLE
name_zh: 测试
name_en: Test
items:
  - {key: a, item: SAMR-0001, always: true}
  - {key: b, item: TAX-0001, after: [a]}
questions:
  - id: q
    text_zh: 问
    text_en: Q
    options:
      - {value: "yes", label_zh: 是, label_en: "Yes", add: [b], end: true}
      - {value: "no", label_zh: 否, label_en: "No", end: true}
"""


def facts_of(code: str) -> files.ItemFacts | None:
    return facts() if code in ("SAMR-0001", "TAX-0001") else None


def facts(fields: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> files.ItemFacts:
    """An item with these fields, no materials, issuing no licence."""
    return files.ItemFacts(fields=fields or {}, materials={}, issues=None)


def refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BundleFileInvalid) as caught:
        files.load(path, facts_of)
    return str(caught.value)


class TestBundleFiles:
    def test_a_good_file_loads(self, tmp_path: Path) -> None:
        path = tmp_path / "b.yaml"
        path.write_text(GOOD, encoding="utf-8")
        assert files.load(path, facts_of).code == "TEST-BUNDLE"

    def test_a_cycle_is_refused_at_its_line(self, tmp_path: Path) -> None:
        text = GOOD.replace(
            "{key: a, item: SAMR-0001, always: true}",
            "{key: a, item: SAMR-0001, always: true, after: [b]}",
        )
        message = refusal(tmp_path, text)
        assert "line 5" in message
        assert "cycle" in message

    def test_an_unknown_item_is_refused_at_its_line(self, tmp_path: Path) -> None:
        message = refusal(tmp_path, GOOD.replace("TAX-0001", "TAX-9999"))
        assert "line 6" in message
        assert "TAX-9999" in message

    def test_an_answer_without_an_outcome_is_refused_at_its_line(self, tmp_path: Path) -> None:
        message = refusal(tmp_path, GOOD.replace(", add: [b], end: true}", ", add: [b]}"))
        assert "line 12" in message
        assert "outcome" in message

    def test_a_question_leading_to_a_missing_one_is_refused(self, tmp_path: Path) -> None:
        message = refusal(tmp_path, GOOD.replace('"No", end: true', '"No", next: nowhere'))
        assert "line 13" in message

    def test_a_field_that_means_different_things_in_two_items_is_refused(
        self, tmp_path: Path
    ) -> None:
        def clashing(code: str) -> files.ItemFacts:
            kind = "phone" if code == "SAMR-0001" else "text"
            return facts({"phone": (kind, ())})

        path = tmp_path / "b.yaml"
        path.write_text(GOOD, encoding="utf-8")
        with pytest.raises(BundleFileInvalid) as caught:
            files.load(path, clashing)
        assert "line 6" in str(caught.value)


def applicant(engine: Engine) -> Account:
    from tests.notifications.conftest import make_applicant

    return make_applicant(engine)


def merged_values(engine: Engine, codes: list[str]) -> dict[str, object]:
    with unit_of_work(engine) as session:
        values: dict[str, object] = {}
        for code in codes:
            item = catalog_service.get_item(session, OPERATOR, code)
            values.update(form_values(applications_service.field_specs(item)))
        return values


def fill_everything(
    engine: Engine, client: TestClient, headers: dict[str, str], case_id: int, codes: list[str]
) -> None:
    """Fill the merged form with valid values for the items ``codes`` and upload a file for
    every material on the merged list (neither asks for what earlier items' results give)."""
    asked = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()["fields"]
    values = {k: v for k, v in merged_values(engine, codes).items() if k in asked}
    saved = client.put(
        f"/api/v1/bundle-cases/{case_id}/form", headers=headers, json={"form": values}
    )
    assert saved.status_code == 200, saved.text
    for code, types in saved.json()["material_types"].items():
        name, content = _file_for(types)
        uploaded = client.post(
            f"/api/v1/bundle-cases/{case_id}/materials",
            headers=headers,
            data={"requirement_code": code},
            files={"file": (name, content)},
        )
        assert uploaded.status_code == 201, uploaded.text


class TestBundleJourney:
    def test_the_demo_has_three_bundles_over_at_least_three_departments(
        self, client: TestClient
    ) -> None:
        bundles = client.get("/api/v1/bundles").json()
        assert len(bundles) >= 3
        departments = {code.split("-")[0] for b in bundles for code in b["items"]}
        assert len(departments) >= 3

    def test_an_exit_answer_means_not_eligible(self, client: TestClient) -> None:
        walked = client.post(
            "/api/v1/bundles/BABY-BORN/walk", json={"answers": {"born_here": "no"}}
        ).json()
        assert walked["eligible"] is False
        assert walked["exit_zh"]

    def test_one_submission_then_dependants_start_on_approval(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = applicant(engine)
        headers = sign_in(client, person.username)
        walked = client.post(
            "/api/v1/bundles/BABY-BORN/walk",
            json={"answers": {"born_here": "yes", "card": "yes"}},
        ).json()
        assert walked["items"] == ["HEALTH-0003", "PSB-0003", "HRSS-0002"]
        case = client.post(
            "/api/v1/bundle-cases",
            headers=headers,
            json={"code": "BABY-BORN", "answers": {"born_here": "yes", "card": "yes"}},
        )
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        # "phone" is asked once although all three items have it.
        assert case.json()["fields"].count("phone") == 1
        refused = client.post(f"/api/v1/bundle-cases/{case_id}/submit", headers=headers)
        assert refused.status_code == 422
        fill_everything(engine, client, headers, case_id, walked["items"])
        submitted = client.post(f"/api/v1/bundle-cases/{case_id}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        status = {a["item_code"]: a["status"] for a in submitted.json()["applications"]}
        assert status == {"HEALTH-0003": "submitted", "PSB-0003": "draft", "HRSS-0002": "draft"}
        linked = {a["item_code"]: a["number"] for a in submitted.json()["applications"]}

        approve(engine, "health_officer", linked["HEALTH-0003"])
        after = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()
        status = {a["item_code"]: a["status"] for a in after["applications"]}
        assert status["PSB-0003"] == "submitted"
        assert status["HRSS-0002"] == "draft"
        approve(engine, "psb_officer", linked["PSB-0003"])
        approve(engine, "hrss_officer", linked["HRSS-0002"])
        for officer, code in (
            ("health_officer", "HEALTH-0003"),
            ("psb_officer", "PSB-0003"),
            ("hrss_officer", "HRSS-0002"),
        ):
            complete(engine, officer, linked[code])
        done = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()
        assert done["completed"] is True

    def test_a_material_several_items_need_is_uploaded_once(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = applicant(engine)
        headers = sign_in(client, person.username)
        case_id = client.post(
            "/api/v1/bundle-cases",
            headers=headers,
            json={"code": "OPEN-SHOP", "answers": {"food": "yes", "insurance": "no"}},
        ).json()["id"]
        taken = client.post(
            f"/api/v1/bundle-cases/{case_id}/materials",
            headers=headers,
            data={"requirement_code": "application_form"},
            files={"file": ("form.pdf", pdf_bytes(), "application/pdf")},
        )
        # Both items are the market regulator's: one application takes the file for both.
        assert taken.json() == {"applications": 1}

    def test_someone_elses_bundle_case_is_not_found(
        self, engine: Engine, client: TestClient
    ) -> None:
        person = applicant(engine)
        case_id = client.post(
            "/api/v1/bundle-cases",
            headers=sign_in(client, person.username),
            json={"code": "BUY-HOME", "answers": {"first_home": "yes", "move": "yes"}},
        ).json()["id"]
        other = client.get(f"/api/v1/bundle-cases/{case_id}", headers=sign_in(client, "lisi"))
        assert other.status_code == 404


def _official(session, username: str) -> Account:  # type: ignore[no-untyped-def]
    account = identity_service.get_by_username(session, username)
    assert account is not None
    return account


def approve(engine: Engine, officer: str, number: str) -> None:
    with unit_of_work(engine) as session:
        official = _official(session, officer)
        for action in (Action.ACCEPT, Action.START_REVIEW, Action.APPROVE):
            take(session, official, number, action)


def complete(engine: Engine, officer: str, number: str) -> None:
    with unit_of_work(engine) as session:
        take(session, _official(session, officer), number, Action.COMPLETE)
