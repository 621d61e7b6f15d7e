"""Licence types are data files, validated at load: an error names the file and the line; the
demo types fit the demo catalog (every mapped form field exists, every material's licence type
exists)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.catalog import service as catalog_service
from tongban.licences import types
from tongban.licences.errors import LicenceTypeFileInvalid

GOOD = (types.data_dir() / "food_business_permit.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "permit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_shipped_types_load() -> None:
    loaded = types.read_dir(types.data_dir())
    assert {"business_licence", "food_business_permit", "marriage_certificate"} <= set(loaded)
    assert types.issued_by("SAMR-0001") is not None
    assert types.issued_by("SAMR-0001").code == "business_licence"  # type: ignore[union-attr]
    assert types.issued_by("TAX-0001") is None


def test_an_unknown_security_label_names_file_and_line(tmp_path: Path) -> None:
    text = GOOD.replace("security_label: internal:identity", "security_label: secret:nowhere", 1)
    path = _write(tmp_path, text)
    with pytest.raises(LicenceTypeFileInvalid) as caught:
        types.read_type(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"line {_line(text, 'secret:nowhere')}" in message


def test_a_misspelt_key_names_file_and_line(tmp_path: Path) -> None:
    text = GOOD.replace("    label_en: Premises\n", "    label_en: Premises\n    colour: red\n", 1)
    path = _write(tmp_path, text)
    with pytest.raises(LicenceTypeFileInvalid) as caught:
        types.read_type(path)
    assert str(path) in str(caught.value)
    assert f"line {_line(text, 'colour: red')}" in str(caught.value)


def test_a_mapping_to_a_field_the_type_lacks_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("    safety_manager: safety_manager\n", "    manager: safety_manager\n")
    with pytest.raises(LicenceTypeFileInvalid) as caught:
        types.read_type(_write(tmp_path, text))
    assert "manager" in str(caught.value)


def test_not_yaml_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "code: [unclosed\n")
    with pytest.raises(LicenceTypeFileInvalid) as caught:
        types.read_type(path)
    assert str(path) in str(caught.value)


def test_the_types_fit_the_demo_catalog() -> None:
    _, items = catalog_service.read_catalog_dir(catalog_service.demo_catalog_dir())
    by_code = {item.code: item for item in items}
    for spec in types.all_types().values():
        for item_code, mapping in spec.issued_for.items():
            assert item_code in by_code, f"{spec.code}: no item {item_code}"
            names = {f.name for f in by_code[item_code].fields}
            for source in mapping.values():
                assert source.startswith("decision.") or source in names, (spec.code, source)
    named = {
        m.satisfied_by_licence for item in items for m in item.materials if m.satisfied_by_licence
    }
    assert named
    assert named <= set(types.all_types())


def test_two_types_issued_by_one_item_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    second = GOOD.replace("code: food_business_permit", "code: food_permit_copy", 1)
    (tmp_path / "b.yaml").write_text(second, encoding="utf-8")
    with pytest.raises(LicenceTypeFileInvalid) as caught:
        types.read_dir(tmp_path)
    assert "b.yaml" in str(caught.value)
    assert "SAMR-0003 already issues food_business_permit" in str(caught.value)
    assert f"line {_line(second, 'SAMR-0003:')}" in str(caught.value)
