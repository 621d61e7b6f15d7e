"""`tongban proactive ...` against the test database: a refused rule file as cron would meet it
(a process of its own, its exit status), the rest through Typer's runner in this process."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from tests.fixtures.cli import tongban, tongban_in_process
from tests.proactive.test_service import _birth, _offers, _run
from tongban.proactive.models import RunStatus


def test_check_lists_the_rules(engine: Engine) -> None:
    done = tongban_in_process(engine, "proactive", "check")
    assert done.exit_code == 0, done.output
    assert re.search(r"newborn-household\s+birth_registered\s+offer PSB-0003", done.stdout)
    assert re.search(r"turns-80-allowance\s+age_reached\s+grant MCA-0003", done.stdout)


def test_check_refuses_a_bad_rule_with_its_line(engine: Engine, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text(
        "code: bad\nname_zh: 坏\nname_en: Bad\nsubject: person\n"
        "trigger: {kind: age_reached, years: 60, within_days: 30}\n"
        "offer:\n  item: NOPE-0001\n",
        encoding="utf-8",
    )
    done = tongban(engine, tmp_path, "proactive", "check", "--rules", str(rules))
    assert done.returncode == 1
    assert "bad.yaml, line 7" in done.stdout.replace("\n", "")


def test_run_offers_and_confirm_sends_a_held_run(engine: Engine) -> None:
    father, mother, child, _ = _birth(engine)
    done = tongban_in_process(engine, "proactive", "run", "--rule", "newborn-household")
    assert done.exit_code == 0, done.output
    assert "newborn-household:" in done.stdout
    assert {o.recipient_id for o in _offers(engine, "newborn-household", child)} == {
        father.account_id,
        mother.account_id,
    }
    _, _, second, _ = _birth(engine)
    (held,) = _run(engine, "newborn-household", max_share=0.0001, guard_minimum=0)
    assert held.status is RunStatus.PENDING
    listed = tongban_in_process(engine, "proactive", "runs")
    assert re.search(rf"\b{held.run_id}\s+newborn-household\s+pending", listed.stdout)
    done = tongban_in_process(engine, "proactive", "confirm", str(held.run_id))
    assert done.exit_code == 0, done.output
    assert len(_offers(engine, "newborn-household", second)) == 2
