"""Loading the catalog from data files: the demo catalog, idempotent reloads, versioned changes
and bad files that are refused naming the file and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.audit import helpers as audit_helpers
from tests.catalog.conftest import department, item, write_catalog
from tests.fixtures.principals import OPERATOR
from tongban.audit import service as audit_service
from tongban.catalog import service as catalog_service
from tongban.catalog.errors import CatalogFileInvalid
from tongban.catalog.models import Department, ServiceItem
from tongban.errors import Forbidden
from tongban.identity import service as identity_service

DEMO_DIR = catalog_service.demo_catalog_dir()
DEMO_DEPARTMENTS, DEMO_ITEMS = catalog_service.read_catalog_dir(DEMO_DIR)


def versions(session: Session) -> dict[str, int]:
    return dict(session.execute(select(ServiceItem.code, ServiceItem.version)).tuples().all())


def count(session: Session, model: type[Any]) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


class TestDemoCatalog:
    def test_has_at_least_20_items_across_the_main_departments(self, db: Session) -> None:
        items = catalog_service.search(db, OPERATOR)
        departments = {d.code for d in catalog_service.list_departments(db, OPERATOR)}

        assert len(items) >= 20
        assert {"SAMR", "PSB", "MCA", "HRSS", "HOUSING", "TAX"} <= departments
        assert len(departments) >= 6
        assert {i.department.code for i in items} <= departments

    def test_every_item_in_the_data_files_is_in_the_database(self, db: Session) -> None:
        demo_departments = {spec.department for spec in DEMO_ITEMS}
        # Other tests add departments of their own to the shared database.
        loaded = {
            i.code: i
            for i in catalog_service.search(db, OPERATOR)
            if i.department.code in demo_departments
        }
        assert set(loaded) == {spec.code for spec in DEMO_ITEMS}
        for spec in DEMO_ITEMS:
            stored = loaded[spec.code]
            assert stored.department.code == spec.department
            assert stored.name_zh == spec.name_zh
            assert stored.fee == spec.fee
            assert [m.code for m in stored.materials] == [m.code for m in spec.materials]
            assert [f["name"] for f in stored.fields] == [f.name for f in spec.fields]


class TestLoadCatalog:
    def test_loading_the_demo_again_changes_nothing(self, scratch: Session) -> None:
        before = versions(scratch)

        report = catalog_service.load_catalog(scratch, OPERATOR, DEMO_DIR)

        assert report.items_unchanged == len(DEMO_ITEMS)
        assert (report.items_created, report.items_updated) == (0, 0)
        assert (report.departments_created, report.departments_updated) == (0, 0)
        scratch.flush()
        assert versions(scratch) == before

    def test_a_new_catalog_creates_its_department_and_items_and_audits_them(
        self, scratch: Session, tmp_path: Path
    ) -> None:
        folder = write_catalog(
            tmp_path, items={"zz.yaml": [item("ZZTEST-0001"), item("ZZTEST-0002")]}
        )

        report = catalog_service.load_catalog(scratch, OPERATOR, folder)

        assert (report.departments_created, report.items_created) == (1, 2)
        created = catalog_service.get_item(scratch, OPERATOR, "ZZTEST-0002")
        assert created.version == 1
        assert created.department.code == "ZZTEST"
        assert str(created.fee) == "12.50"
        assert [m.code for m in created.materials] == ["id_card"]
        for code in ("ZZTEST-0001", "ZZTEST-0002"):
            entries = audit_helpers.entries_for(scratch, target_type="service_item", target_id=code)
            assert [(e.action, e.details) for e in entries] == [
                ("catalog.item_created", {"version": 1})
            ]
        assert audit_service.verify(scratch).ok

    @pytest.mark.parametrize(
        "change",
        [
            {"name_zh": "测试事项（新）"},
            {"promised_days": 3},
            {"fee": "15.00"},
            {"conditions_zh": ["改了"], "conditions_en": ["Changed"]},
        ],
        ids=["name", "promised-days", "fee", "conditions"],
    )
    def test_a_changed_item_gets_a_new_version_and_an_audit_entry(
        self, scratch: Session, tmp_path: Path, change: dict[str, Any]
    ) -> None:
        other = item("ZZTEST-0002")
        catalog_service.load_catalog(
            scratch, OPERATOR, write_catalog(tmp_path, items={"zz.yaml": [item(), other]})
        )

        report = catalog_service.load_catalog(
            scratch, OPERATOR, write_catalog(tmp_path, items={"zz.yaml": [item(**change), other]})
        )

        assert (report.items_updated, report.items_unchanged, report.items_created) == (1, 1, 0)
        changed = catalog_service.get_item(scratch, OPERATOR, "ZZTEST-0001")
        assert changed.version == 2
        for key, value in change.items():
            assert str(getattr(changed, key)) == str(value)
        assert catalog_service.get_item(scratch, OPERATOR, "ZZTEST-0002").version == 1
        entries = audit_helpers.entries_for(
            scratch, target_type="service_item", target_id="ZZTEST-0001"
        )
        assert [(e.action, e.details) for e in entries] == [
            ("catalog.item_created", {"version": 1}),
            ("catalog.item_updated", {"version": 2}),
        ]

    def test_a_changed_material_gets_a_new_version(self, scratch: Session, tmp_path: Path) -> None:
        catalog_service.load_catalog(scratch, OPERATOR, write_catalog(tmp_path))
        changed = item()
        changed["materials"][0]["max_mb"] = 2

        report = catalog_service.load_catalog(
            scratch, OPERATOR, write_catalog(tmp_path, items={"zz.yaml": [changed]})
        )

        assert report.items_updated == 1
        stored = catalog_service.get_item(scratch, OPERATOR, "ZZTEST-0001")
        assert stored.version == 2
        assert [m.max_mb for m in stored.materials] == [2]

    def test_reloading_unchanged_files_keeps_the_version(
        self, scratch: Session, tmp_path: Path
    ) -> None:
        folder = write_catalog(tmp_path)
        catalog_service.load_catalog(scratch, OPERATOR, folder)

        report = catalog_service.load_catalog(scratch, OPERATOR, folder)

        assert (report.items_unchanged, report.items_updated) == (1, 0)
        assert catalog_service.get_item(scratch, OPERATOR, "ZZTEST-0001").version == 1

    def test_a_changed_department_is_updated(self, scratch: Session, tmp_path: Path) -> None:
        catalog_service.load_catalog(scratch, OPERATOR, write_catalog(tmp_path))

        report = catalog_service.load_catalog(
            scratch, OPERATOR, write_catalog(tmp_path, departments=[department(phone="0590-1")])
        )

        assert report.departments_updated == 1
        assert catalog_service.get_department(scratch, OPERATOR, "ZZTEST").phone == "0590-1"

    def test_every_load_is_audited_with_its_report(self, scratch: Session, tmp_path: Path) -> None:
        folder = write_catalog(tmp_path / "zz-catalog")
        report = catalog_service.load_catalog(scratch, OPERATOR, folder)

        entries = audit_helpers.entries_for(scratch, target_type="catalog", target_id="zz-catalog")
        assert [(e.action, e.actor) for e in entries] == [("catalog.loaded", "operator:tests")]
        assert entries[0].details == vars(report)

    @pytest.mark.parametrize("username", ["zhangsan", "samr_officer"])
    def test_only_an_admin_or_the_command_line_may_load(
        self, scratch: Session, tmp_path: Path, username: str
    ) -> None:
        folder = write_catalog(tmp_path)
        with pytest.raises(Forbidden):
            catalog_service.load_catalog(
                scratch, identity_service.get_by_username(scratch, username), folder
            )
        admin = identity_service.get_by_username(scratch, "admin")
        assert catalog_service.load_catalog(scratch, admin, folder).items_created == 1

    def test_a_bad_file_writes_nothing(self, scratch: Session, tmp_path: Path) -> None:
        folder = write_catalog(
            tmp_path, items={"a.yaml": [item()], "b.yaml": [item("ZZTEST-0002", fee=1.5)]}
        )
        before = (count(scratch, Department), count(scratch, ServiceItem))

        with pytest.raises(CatalogFileInvalid):
            catalog_service.load_catalog(scratch, OPERATOR, folder)

        assert (count(scratch, Department), count(scratch, ServiceItem)) == before


def _select_without_options() -> dict[str, Any]:
    broken = item()
    del broken["fields"][1]["options"]
    return broken


def _field_labelled(label: str | None) -> dict[str, Any]:
    broken = item()
    if label is None:
        del broken["fields"][0]["security_label"]
    else:
        broken["fields"][0]["security_label"] = label
    return broken


def _duplicate_field() -> dict[str, Any]:
    broken = item()
    broken["fields"].append(dict(broken["fields"][0]))
    return broken


BAD = [
    pytest.param(
        {"items": {"zz.yaml": [item("NOPE-0001", department="NOPE")]}},
        "items/zz.yaml",
        "unknown department NOPE",
        id="unknown-department",
    ),
    pytest.param(
        {"items": {"zz.yaml": [item(promised_days=11)]}},
        "items/zz.yaml",
        "promised_days cannot exceed statutory_days",
        id="promised-over-statutory",
    ),
    pytest.param(
        {"items": {"zz.yaml": [item(fee=12.5)]}},
        "items/zz.yaml",
        "write the fee as a quoted string",
        id="float-fee",
    ),
    pytest.param(
        {"items": {"zz.yaml": [_select_without_options()]}},
        "items/zz.yaml",
        "select field kind needs at least two options",
        id="select-without-options",
    ),
    pytest.param(
        {"items": {"zz.yaml": [item(), item()]}},
        "items/zz.yaml",
        "duplicate item code ZZTEST-0001",
        id="duplicate-item-code-in-one-file",
    ),
    pytest.param(
        {"items": {"a.yaml": [item()], "b.yaml": [item()]}},
        "items/b.yaml",
        "duplicate item code ZZTEST-0001",
        id="duplicate-item-code-across-files",
    ),
    pytest.param(
        {"departments": [department(), department()]},
        "departments.yaml",
        "duplicate department code ZZTEST",
        id="duplicate-department-code",
    ),
    pytest.param(
        {"items": {"zz.yaml": [_duplicate_field()]}},
        "items/zz.yaml",
        "duplicate field names: ['full_name']",
        id="duplicate-field-name",
    ),
    pytest.param(
        {"items": {"zz.yaml": [item(colour="red")]}},
        "items/zz.yaml",
        "0.colour: Extra inputs are not permitted",
        id="unknown-item-key",
    ),
    pytest.param(
        {"departments": [department(website="https://example.cn")]},
        "departments.yaml",
        "0.website: Extra inputs are not permitted",
        id="unknown-department-key",
    ),
    pytest.param(
        {"items": {"zz.yaml": [_field_labelled(None)]}},
        "items/zz.yaml",
        "0.fields.0.security_label: Field required",
        id="unlabelled-field",
    ),
    pytest.param(
        {"items": {"zz.yaml": [_field_labelled("secret")]}},
        "items/zz.yaml",
        "0.fields.0.security_label: Unknown grade secret",
        id="unknown-grade",
    ),
    pytest.param(
        {"items": {"zz.yaml": [_field_labelled("important:gossip")]}},
        "items/zz.yaml",
        "0.fields.0.security_label: Unknown compartment gossip",
        id="unknown-compartment",
    ),
    pytest.param(
        {"items": {"zz.yaml": [item("SAMR-0999")]}},
        "items/zz.yaml",
        "must start with its department code",
        id="code-of-another-department",
    ),
]


class TestReadCatalogDir:
    def test_reads_the_demo_catalog(self) -> None:
        assert len(DEMO_ITEMS) >= 20
        assert len(DEMO_DEPARTMENTS) >= 6

    @pytest.mark.parametrize(("files", "bad_file", "problem"), BAD)
    def test_a_bad_data_file_is_refused_naming_the_file_and_the_problem(
        self, tmp_path: Path, files: dict[str, Any], bad_file: str, problem: str
    ) -> None:
        folder = write_catalog(tmp_path, **files)

        with pytest.raises(CatalogFileInvalid) as refused:
            catalog_service.read_catalog_dir(folder)

        message = str(refused.value)
        assert str(folder / bad_file) in message
        assert problem in message
        assert refused.value.code == "catalog_file_invalid"
        assert refused.value.status_code == 422

    def test_a_missing_departments_file_is_named(self, tmp_path: Path) -> None:
        (tmp_path / "items").mkdir()
        with pytest.raises(CatalogFileInvalid, match="does not exist") as refused:
            catalog_service.read_catalog_dir(tmp_path)
        assert str(tmp_path / "departments.yaml") in str(refused.value)

    def test_a_file_that_is_not_yaml_is_named(self, tmp_path: Path) -> None:
        folder = write_catalog(tmp_path)
        (folder / "items" / "broken.yaml").write_text("- code: [unclosed\n", encoding="utf-8")
        with pytest.raises(CatalogFileInvalid, match="is not valid YAML") as refused:
            catalog_service.read_catalog_dir(folder)
        assert str(folder / "items" / "broken.yaml") in str(refused.value)
