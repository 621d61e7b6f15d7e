"""`tongban payments reconcile`, as cron runs it: the day's lines, totals, and exit status 1
when a line does not match the provider's settlement list."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from tests.fixtures.cli import tongban
from tests.payments.test_payments import paid_case
from tongban.kit.clock import local_today
from tongban.payments.simulated import SimulatedProvider


def test_a_mismatch_is_printed_and_fails_the_run(
    engine: Engine, platform: str, provider: SimulatedProvider, tmp_path: Path
) -> None:
    _, matched_number, _ = paid_case(engine, platform, provider)
    _, missing_number, missing = paid_case(engine, platform, provider)
    assert missing.provider_id is not None
    state = json.loads(provider.state_file.read_text("utf-8"))
    del state[missing.provider_id]
    provider.state_file.write_text(json.dumps(state), "utf-8")

    run = tongban(
        engine,
        tmp_path,
        "payments",
        "reconcile",
        "--department",
        "PSB",
        "--day",
        str(local_today()),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(matched_number in line and "matched" in line for line in lines)
    assert any(missing_number in line and "missing_at_provider" in line for line in lines)
    assert "mismatch(es)" in lines[-1]


def test_a_day_that_matches_exits_zero(engine: Engine, tmp_path: Path) -> None:
    run = tongban(
        engine, tmp_path, "payments", "reconcile", "--department", "PSB", "--day", "2020-01-02"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PSB 2020-01-02: paid ¥0.00 (provider ¥0.00)" in run.stdout
    assert "0 mismatch(es)" in run.stdout


def test_an_unknown_department_is_refused_in_one_line(engine: Engine, tmp_path: Path) -> None:
    run = tongban(engine, tmp_path, "payments", "reconcile", "--department", "NOPE")
    assert run.returncode == 1
    assert "NOPE" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
