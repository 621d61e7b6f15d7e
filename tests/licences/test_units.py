"""A licence shows a number in its own unit: a form field asked in another unit of the same kind
is converted exactly (资金数额 asked in 元, printed in 万元), and every licence type's mapping is
checked against the unit of the form field it is filled from."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.applications.test_company_applications import acting_as_agent
from tests.licences.helpers import approved, pdf_of
from tongban.catalog import service as catalog_service
from tongban.kit import units
from tongban.licences import types


def _named_unit(label_zh: str) -> units.UnitName | None:
    """The unit a label names in brackets, as in 资金数额（万元）."""
    named = re.search(r"（([^（）]+)）$", label_zh)
    return next((n for n, u in units.UNITS.items() if named and u.zh == named[1]), None)


def test_every_mapping_matches_the_unit_of_its_source_field() -> None:
    _, items = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
    by_code = {item.code: item for item in items}
    checked = 0
    for spec in types.all_types().values():
        licence_fields = {f.name: f for f in spec.fields}
        for item_code, mapping in spec.issued_for.items():
            form_fields = {f.name: f for f in by_code[item_code].fields}
            for name, source in mapping.items():
                if source not in form_fields:
                    continue  # the decision's date or department
                field, shown = form_fields[source], licence_fields[name]
                where = f"{spec.code}.{name} <- {item_code}.{source}"
                # A unit named in a label is declared, on both sides.
                assert field.unit == _named_unit(field.label_zh), where
                assert shown.unit == _named_unit(shown.label_zh), where
                if field.type == "number" or field.unit or shown.unit:
                    assert units.convertible(field.unit, shown.unit), where
                    checked += 1
    assert checked >= 2  # both business licence items' capital


def test_the_sealed_pdf_prints_capital_in_10k_yuan(
    client: TestClient, applicant_headers: dict[str, str]
) -> None:
    licence = approved(client, applicant_headers, "SAMR-0001", {"capital_amount": "50000"})
    assert {f["name"]: f["value"] for f in licence["fields"]}["capital"] == "5"
    data = pdf_of(client, applicant_headers, licence["number"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert re.search(r"资金数额（万元）\s*5\s", text), text
    assert "50000" not in text


def test_a_company_capital_already_in_10k_yuan_is_printed_as_given(
    client: TestClient, engine: Engine
) -> None:
    headers, _ = acting_as_agent(client, engine, "临江单位换算有限公司")
    licence = approved(client, headers, "SAMR-0002", {"registered_capital": "12.5"})
    assert {f["name"]: f["value"] for f in licence["fields"]}["capital"] == "12.5"


class TestConvert:
    def test_exact_both_ways(self) -> None:
        assert units.convert(Decimal("12345"), "yuan", "10k_yuan") == Decimal("1.2345")
        assert units.plain(units.convert(Decimal("1.2345"), "10k_yuan", "yuan")) == "12345"
        assert units.plain(units.convert(Decimal("0.01"), "yuan", "10k_yuan")) == "0.000001"

    def test_units_of_two_kinds_are_refused(self) -> None:
        with pytest.raises(ValueError, match="cannot be converted"):
            units.convert(Decimal(1), "yuan", "sqm")

    def test_a_value_without_an_exact_decimal_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no exact value"):
            units.convert(Decimal(1), "month", "year")
