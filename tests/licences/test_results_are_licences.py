"""Every result is a licence: each demo item whose result is a document issues an electronic
licence type, so that what one item issues stands in for a material of another."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.applications.test_material_sources import _by_code, _provide, _start
from tests.conftest import sign_in
from tests.licences.helpers import approved
from tongban.catalog import service as catalog_service
from tongban.identity.models import Account
from tongban.licences import types

# Items whose result is a decision (money paid, a status confirmed), not a document.
DECISIONS = {
    "HOUSING-0001",
    "HOUSING-0002",
    "HOUSING-0003",
    "HRSS-0001",
    "HRSS-0003",
    "HRSS-0004",
    "MCA-0003",
    "MCA-0004",
    "TAX-0001",
    "TAX-0002",
    "TAX-0004",
    "TAX-0005",
}


def test_each_item_whose_result_is_a_document_issues_a_licence_type() -> None:
    _, items = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
    without = sorted(
        i.code for i in items if i.code not in DECISIONS and types.issued_by(i.code) is None
    )
    assert without == []


def test_a_household_register_entry_stands_in_for_the_booklet(
    client: TestClient, verified_citizen: Account
) -> None:
    headers = sign_in(client, verified_citizen.username)
    licence = approved(client, headers, "PSB-0002")
    assert licence["type_code"] == "household_register"
    # The old-age allowance asks for the household register booklet.
    number = _start(client, headers, "MCA-0003")
    material = _by_code(_provide(client, headers, number))["household_register"]
    assert (material["source"], material["source_ref"], material["grade"]) == (
        "licence",
        licence["number"],
        "A",
    )


def test_a_certificate_of_no_criminal_record_is_issued_as_a_licence(
    client: TestClient, verified_citizen: Account
) -> None:
    headers = sign_in(client, verified_citizen.username)
    licence = approved(client, headers, "PSB-0005")
    assert licence["type_code"] == "no_criminal_record"
