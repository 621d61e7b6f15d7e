"""Rule files are checked when they load: the packaged examples pass; a rule naming a form field,
a data element or an item that does not exist is refused with its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tongban.db.session import unit_of_work
from tongban.proactive.errors import RuleFileInvalid
from tongban.proactive.rules import load_rules, rules_dir

GOOD = """\
code: test-rule
name_zh: 测试规则
name_en: A test rule
subject: person
trigger:
  kind: age_reached
  years: 60
  within_days: 30
offer:
  item: HRSS-0004
prefill:
  applicant_name: recipient.name
  phone: recipient.phone
"""


def _refusal(engine: Engine, tmp_path: Path, text: str) -> str:
    (tmp_path / "rule.yaml").write_text(text, encoding="utf-8")
    with unit_of_work(engine) as session, pytest.raises(RuleFileInvalid) as refused:
        load_rules(session, tmp_path)
    return str(refused.value)


def test_the_packaged_rules_load(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        rules = load_rules(session)
    codes = {r.code for r in rules}
    assert {"newborn-household", "turns-60-retirement", "turns-80-allowance"} <= codes
    assert {"licence-expiring", "first-employee", "newborn-bundle"} <= codes
    assert sum(1 for r in rules if r.spec.grant is not None) >= 1


def test_a_good_rule_loads(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(GOOD, encoding="utf-8")
    with unit_of_work(engine) as session:
        (rule,) = load_rules(session, tmp_path)
    assert rule.item is not None
    assert rule.item.code == "HRSS-0004"


def test_an_unknown_field_is_refused_with_its_line(engine: Engine, tmp_path: Path) -> None:
    message = _refusal(engine, tmp_path, GOOD + "  pension_bank: recipient.name\n")
    assert str(tmp_path / "rule.yaml") in message
    assert "line 14" in message
    assert "pension_bank" in message


def test_an_unknown_element_is_refused_with_its_line(engine: Engine, tmp_path: Path) -> None:
    message = _refusal(engine, tmp_path, GOOD.replace("recipient.phone", "recipient.shoe_size"))
    assert "line 13" in message
    assert "shoe_size" in message


def test_an_unknown_item_is_refused_with_its_line(engine: Engine, tmp_path: Path) -> None:
    message = _refusal(engine, tmp_path, GOOD.replace("HRSS-0004", "HRSS-9999"))
    assert "line 10" in message
    assert "HRSS-9999" in message


def test_a_bad_trigger_is_refused_with_its_line(engine: Engine, tmp_path: Path) -> None:
    message = _refusal(engine, tmp_path, GOOD.replace("years: 60", "years: 0"))
    assert "line 7" in message


def test_a_company_trigger_needs_a_company_element(engine: Engine, tmp_path: Path) -> None:
    text = (
        GOOD.replace("subject: person", "subject: company")
        .replace(
            "kind: age_reached\n  years: 60\n  within_days: 30",
            "kind: date_within\n  element: insured_employees\n  days: 30",
        )
        .replace("HRSS-0004", "SAMR-0003")
        .replace("prefill:\n  applicant_name: recipient.name\n  phone: recipient.phone\n", "")
    )
    message = _refusal(engine, tmp_path, text)
    assert "line 7" in message
    assert "not a date" in message


def test_two_rules_may_not_share_a_code(engine: Engine, tmp_path: Path) -> None:
    shutil.copy(rules_dir() / "newborn-household.yaml", tmp_path / "a.yaml")
    shutil.copy(rules_dir() / "newborn-household.yaml", tmp_path / "b.yaml")
    with unit_of_work(engine) as session, pytest.raises(RuleFileInvalid, match="also used"):
        load_rules(session, tmp_path)
