"""A bundle never asks for what one of its own items will issue: opening a shop registers the
business, whose licence carries a new unified social credit code; the food licence and the
invoices take that code and the licence itself from the registration's result, instead of
asking the applicant for a code and a licence they cannot have yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.bundles.test_bundles import GOOD, applicant, approve, fill_everything
from tests.conftest import sign_in
from tests.fixtures.files import pdf_bytes
from tongban.bundles import files
from tongban.bundles.errors import BundleFileInvalid
from tongban.config import get_settings
from tongban.identity import numbers

ANSWERS = {"food": "yes", "insurance": "yes"}
ITEMS = ["SAMR-0001", "SAMR-0003", "TAX-0002", "HRSS-0003"]


def _shop(engine: Engine, client: TestClient) -> tuple[dict[str, str], dict[str, Any]]:
    headers = sign_in(client, applicant(engine).username)
    case = client.post(
        "/api/v1/bundle-cases", headers=headers, json={"code": "OPEN-SHOP", "answers": ANSWERS}
    )
    assert case.status_code == 201, case.text
    return headers, case.json()


def case_numbers(
    client: TestClient, headers: dict[str, str], case_id: int
) -> list[tuple[str, str]]:
    body = client.get(f"/api/v1/bundle-cases/{case_id}", headers=headers).json()
    return [(a["item_code"], a["number"]) for a in body["applications"]]


class TestTheShopBundle:
    def test_it_asks_neither_the_credit_code_nor_the_licence_the_registration_issues(
        self, engine: Engine, client: TestClient
    ) -> None:
        headers, case = _shop(engine, client)
        assert "credit_code" not in case["fields"]
        assert "business_licence" not in case["materials"]
        assert case["from_results"] == {
            "credit_code": "SAMR-0001",
            "business_licence": "SAMR-0001",
        }
        # Sent anyway, it is refused with what happens instead.
        sent = client.put(
            f"/api/v1/bundle-cases/{case['id']}/form",
            headers=headers,
            json={"form": {"credit_code": "91330102MA2B3C4D5K"}},
        )
        assert sent.status_code == 422, sent.text
        assert sent.json()["error"]["field"] == "credit_code"
        uploaded = client.post(
            f"/api/v1/bundle-cases/{case['id']}/materials",
            headers=headers,
            data={"requirement_code": "business_licence"},
            files={"file": ("licence.pdf", pdf_bytes(), "application/pdf")},
        )
        assert uploaded.status_code == 422, uploaded.text
        assert uploaded.json()["error"]["field"] == "requirement_code"

        # Nor can it be set on the department's application itself.
        tax = next(n for k, n in case_numbers(client, headers, case["id"]) if k == "TAX-0002")
        direct = client.put(
            f"/api/v1/applications/{tax}/form",
            headers=headers,
            json={"form": {"credit_code": "91330102MA2B3C4D5K"}},
        )
        assert direct.status_code == 422, direct.text
        assert direct.json()["error"]["field"] == "credit_code"

        # Everything else filled in, the bundle is complete and goes in at once.
        fill_everything(engine, client, headers, case["id"], ITEMS)
        missing = client.get(f"/api/v1/bundle-cases/{case['id']}", headers=headers).json()
        assert missing["missing_en"] == []
        submitted = client.post(f"/api/v1/bundle-cases/{case['id']}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text

    def test_the_later_items_get_them_from_the_registrations_result(
        self, engine: Engine, client: TestClient
    ) -> None:
        headers, case = _shop(engine, client)
        fill_everything(engine, client, headers, case["id"], ITEMS)
        body = client.post(f"/api/v1/bundle-cases/{case['id']}/submit", headers=headers).json()
        numbers_by_item = {a["item_code"]: a["number"] for a in body["applications"]}

        approve(engine, "samr_officer", numbers_by_item["SAMR-0001"])

        licences = {
            lic["type_code"]: lic for lic in client.get("/api/v1/licences", headers=headers).json()
        }
        business = {f["name"]: f["value"] for f in licences["business_licence"]["fields"]}
        code = business["credit_code"]
        # A new code of an individual business (registration authority 9, type 2) in this
        # deployment's region, with a right check character.
        assert numbers.uscc_problem(code) is None
        assert code.startswith("92" + get_settings().region_code)
        food = {f["name"]: f["value"] for f in licences["food_business_permit"]["fields"]}
        assert food["credit_code"] == code

        # The tax bureau's application has the code and the licence, and was submitted.
        tax = client.get(
            f"/api/v1/applications/{numbers_by_item['TAX-0002']}", headers=headers
        ).json()
        assert tax["status"] == "submitted"
        assert tax["form_data"]["credit_code"] == code
        [attached] = [m for m in tax["materials"] if m["requirement_code"] == "business_licence"]
        assert attached["filename"] == f"{licences['business_licence']['number']}.pdf"
        evidence = client.get(
            f"/api/v1/applications/{numbers_by_item['TAX-0002']}/licence-evidence",
            headers=headers,
        ).json()
        assert [(e["licence_number"], e["grade"], e["verified"]) for e in evidence] == [
            (licences["business_licence"]["number"], "A", True)
        ]
        # The code shows where it came from, as prefilled values do.
        assert tax["prefill"]["credit_code"]["verified"] is True

        # The tax officer reviews it like any other, the licence verified and graded A.
        officer = sign_in(client, "tax_officer")
        seen = client.get(
            f"/api/v1/applications/{numbers_by_item['TAX-0002']}/licence-evidence",
            headers=officer,
        )
        assert seen.status_code == 200, seen.text
        assert [e["verified"] for e in seen.json()] == [True]


def _load(tmp_path: Path, text: str) -> None:
    """Load a bundle file against a small catalog: SAMR-0001 issues a licence carrying
    ``credit_code``, SAMR-0003 asks for a credit code and for that licence."""
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    catalog = {
        "SAMR-0001": files.ItemFacts(fields={}, materials={}, issues=("lic", ("credit_code",))),
        "SAMR-0003": files.ItemFacts(
            fields={"credit_code": ("credit_code", ())},
            materials={"licence_copy": ("lic", ("pdf",)), "plan": (None, ("pdf",))},
            issues=None,
        ),
        "TAX-0001": files.ItemFacts(fields={}, materials={}, issues=None),
    }
    files.load(path, catalog.get)


SHOP = """\
code: TEST-SHOP
name_zh: 测试
name_en: Test
items:
  - {key: a, item: SAMR-0001, always: true}
  - {key: b, item: SAMR-0003, always: true, after: [a]FROM}
"""


class TestResultsInBundleFiles:
    def test_taking_them_from_the_earlier_items_result_loads(self, tmp_path: Path) -> None:
        _load(
            tmp_path,
            SHOP.replace("FROM", ", from_results: {credit_code: a.credit_code, licence_copy: a}"),
        )

    @pytest.mark.parametrize(
        ("from_results", "problem"),
        [
            ("", "licence_copy is what a issues"),
            (", from_results: {licence_copy: a}", "credit_code is what a issues"),
            (", from_results: {credit_code: a.credit_code, plan: a}", "plan"),
            (", from_results: {credit_code: a.number, licence_copy: a}", "number"),
            (", from_results: {credit_code: b.credit_code, licence_copy: a}", "after b"),
            (", from_results: {nothing: a, credit_code: a.credit_code}", "nothing"),
        ],
    )
    def test_asking_for_what_an_earlier_item_issues_or_a_wrong_source_is_refused_at_the_line(
        self, tmp_path: Path, from_results: str, problem: str
    ) -> None:
        with pytest.raises(BundleFileInvalid) as caught:
            _load(tmp_path, SHOP.replace("FROM", from_results))
        assert "line 6" in str(caught.value)
        assert problem in str(caught.value)

    def test_a_result_of_an_item_not_before_it_is_refused(self, tmp_path: Path) -> None:
        text = GOOD.replace(
            "  - {key: b, item: TAX-0001, after: [a]}\n",
            "  - {key: b, item: TAX-0001, after: [a]}\n"
            "  - {key: c, item: SAMR-0003, always: true,"
            " from_results: {credit_code: a.credit_code, licence_copy: a}}\n",
        )
        with pytest.raises(BundleFileInvalid) as caught:
            _load(tmp_path, text)
        assert "line 7" in str(caught.value)
        assert "does not come after a" in str(caught.value)
