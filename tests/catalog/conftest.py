"""Catalog fixtures: a rolled-back session and small catalog folders written on the fly."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

DEPARTMENT: dict[str, Any] = {
    "code": "ZZTEST",
    "name_zh": "测试局",
    "name_en": "Test Bureau",
    "address_zh": "测试路1号",
    "address_en": "No. 1 Test Road",
    "phone": "0590-00000000",
}

ITEM: dict[str, Any] = {
    "code": "ZZTEST-0001",
    "department": "ZZTEST",
    "name_zh": "测试事项",
    "name_en": "Test item",
    "audience": "person",
    "summary_zh": "用于测试的事项。",
    "summary_en": "An item for tests.",
    "legal_basis_zh": ["《测试条例》第一条"],
    "legal_basis_en": ["Test Regulation, Article 1"],
    "conditions_zh": ["申请人为测试人员"],
    "conditions_en": ["The applicant is a tester"],
    "statutory_days": 10,
    "promised_days": 5,
    "fee": "12.50",
    "fee_basis_zh": "按件收费",
    "fee_basis_en": "Per application",
    "online": True,
    "offline": True,
    "max_visits": 0,
    "result_zh": "测试证明",
    "result_en": "Test certificate",
    "materials": [
        {
            "code": "id_card",
            "name_zh": "身份证",
            "name_en": "ID card",
            "form": "copy",
            "required": True,
            "types": ["pdf", "png"],
            "max_mb": 5,
        }
    ],
    "fields": [
        {
            "name": "full_name",
            "type": "text",
            "label_zh": "姓名",
            "label_en": "Name",
            "security_label": "internal:identity",
        },
        {
            "name": "kind",
            "type": "select",
            "security_label": "internal",
            "label_zh": "类别",
            "label_en": "Kind",
            "options": [
                {"value": "first", "label_zh": "首次", "label_en": "First"},
                {"value": "renewal", "label_zh": "换发", "label_en": "Renewal"},
            ],
        },
    ],
}


def item(code: str = "ZZTEST-0001", **changes: Any) -> dict[str, Any]:
    """A valid item of the ZZTEST department, with ``changes`` applied."""
    return {**copy.deepcopy(ITEM), "code": code, **changes}


def department(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(DEPARTMENT), **changes}


def write_catalog(
    directory: Path,
    *,
    departments: list[dict[str, Any]] | None = None,
    items: dict[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """Write ``departments.yaml`` and ``items/<name>.yaml``; returns the folder."""
    (directory / "items").mkdir(parents=True, exist_ok=True)
    (directory / "departments.yaml").write_text(
        yaml.safe_dump(departments or [department()], allow_unicode=True), encoding="utf-8"
    )
    for old in (directory / "items").glob("*.yaml"):
        old.unlink()
    for name, entries in (items if items is not None else {"zz.yaml": [item()]}).items():
        (directory / "items" / name).write_text(
            yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return directory


@pytest.fixture
def scratch(engine: Engine) -> Iterator[Session]:
    """A session on the shared test database that is always rolled back: loading test catalogs
    here never changes the demo catalog other tests read."""
    session = Session(engine)
    try:
        yield session
    finally:
        session.rollback()
        session.close()
