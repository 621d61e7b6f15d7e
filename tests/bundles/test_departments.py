"""A bundle's items of one department go into one application of that department (its back
office handles them together): one number for them, the form and materials of all of them,
the longest time limit, one decision naming them all; the other departments wait for it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.bundles.test_bundles import GOOD, applicant, approve, complete, facts, fill_everything
from tests.conftest import sign_in
from tongban.applications import repository
from tongban.applications import service as applications_service
from tongban.bundles import files
from tongban.bundles.errors import BundleFileInvalid
from tongban.db.session import unit_of_work
from tongban.kit.clock import local_today
from tongban.kit.workdays import get_calendar

ANSWERS = {"food": "yes", "insurance": "yes"}
ITEMS = ["SAMR-0001", "SAMR-0003", "TAX-0002", "HRSS-0003"]


def test_departments_waiting_for_each_other_are_refused_at_the_line(tmp_path: Path) -> None:
    # a (SAMR) -> b (TAX) -> c (SAMR): the SAMR application would wait for TAX and TAX for it.
    text = GOOD.replace(
        "  - {key: b, item: TAX-0001, after: [a]}\n",
        "  - {key: b, item: TAX-0001, after: [a]}\n  - {key: c, item: SAMR-0003, after: [b]}\n",
    )
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    departments = {"SAMR-0001": "SAMR", "SAMR-0003": "SAMR", "TAX-0001": "TAX"}
    known = set(departments)
    with pytest.raises(BundleFileInvalid) as caught:
        files.load(path, lambda code: facts() if code in known else None, departments.get)
    # The line of the SAMR item that waits for the tax bureau's.
    assert "line 7" in str(caught.value)
    assert "SAMR -> TAX -> SAMR" in str(caught.value)
    # Without the department of each item the same file is fine.
    assert files.load(path, lambda code: facts() if code in known else None).code == "TEST-BUNDLE"


def _submitted_shop(
    engine: Engine, client: TestClient
) -> tuple[dict[str, str], int, dict[str, Any]]:
    person = applicant(engine)
    headers = sign_in(client, person.username)
    case = client.post(
        "/api/v1/bundle-cases", headers=headers, json={"code": "OPEN-SHOP", "answers": ANSWERS}
    )
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    fill_everything(engine, client, headers, case_id, ITEMS)
    submitted = client.post(f"/api/v1/bundle-cases/{case_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    return headers, case_id, submitted.json()


def test_one_application_per_department_handled_together(
    engine: Engine, client: TestClient
) -> None:
    headers, case_id, body = _submitted_shop(engine, client)
    linked = {a["item_code"]: a for a in body["applications"]}
    assert set(linked) == set(ITEMS)
    samr = linked["SAMR-0001"]["number"]
    assert linked["SAMR-0003"]["number"] == samr
    assert len({a["number"] for a in linked.values()}) == 3
    assert linked["SAMR-0001"]["status"] == "submitted"
    assert linked["TAX-0002"]["status"] == "draft"
    assert linked["HRSS-0003"]["status"] == "draft"
    # The food licence waits for nothing outside its own department.
    assert linked["SAMR-0003"]["waiting_for"] == []
    # Invoices wait for the market regulator's application, which covers both its items.
    assert linked["TAX-0002"]["waiting_for"] == ["business", "food"]

    mine = client.get(f"/api/v1/applications/{samr}", headers=headers).json()
    assert mine["item_code"] == "SAMR-0001"
    assert mine["covered_item_codes"] == ["SAMR-0003"]

    with unit_of_work(engine) as session:
        application = repository.by_number(session, samr)
        assert application is not None
        names = {f.name for f in applications_service.case_fields(application)}
        for code in ("SAMR-0001", "SAMR-0003"):
            item = next(i for i in application.items if i.code == code)
            assert {f.name for f in applications_service.field_specs(item)} <= names
        codes = {r.code for r in applications_service.requirements(application)}
        assert {r.code for i in application.items for r in i.materials} == codes
        # Every required material is uploaded but the business licence: the food licence
        # takes it from the registration's result.
        uploaded = {m.requirement_code for m in application.materials}
        assert "business_licence" not in uploaded
        assert uploaded >= {
            r.code for r in applications_service.requirements(application) if r.required
        } - {"business_licence"}

    approve(engine, "samr_officer", samr)
    with unit_of_work(engine) as session:
        application = repository.by_number(session, samr)
        assert application is not None
        # Handled together, done when the slowest is: food licence 5 days, registration 1.
        assert application.promised_due_on == get_calendar().add_workdays(local_today(), 5)
    after = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()
    status = {a["item_code"]: a["status"] for a in after["applications"]}
    assert status["SAMR-0001"] == status["SAMR-0003"] == "approved"
    assert status["TAX-0002"] == status["HRSS-0003"] == "submitted"

    # Each covered item's licence is issued: the business licence and the food permit.
    wallet = client.get("/api/v1/licences", headers=headers)
    assert wallet.status_code == 200, wallet.text
    assert sorted(w["type_code"] for w in wallet.json()) == [
        "business_licence",
        "food_business_permit",
    ]

    pdf = client.get(f"/api/v1/applications/{samr}/decision.pdf", headers=headers)
    assert pdf.status_code == 200, pdf.text
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "个体工商户设立登记" in text
    assert "食品经营许可" in text

    numbers = {a["item_code"]: a["number"] for a in after["applications"]}
    approve(engine, "tax_officer", numbers["TAX-0002"])
    approve(engine, "hrss_officer", numbers["HRSS-0003"])
    for officer, code in (
        ("samr_officer", "SAMR-0001"),
        ("tax_officer", "TAX-0002"),
        ("hrss_officer", "HRSS-0003"),
    ):
        complete(engine, officer, numbers[code])
    done = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()
    assert done["completed"] is True
