"""`tongban audit verify`, run as the real command against a database of its own."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from tests.audit.helpers import delete, drop_append_only_triggers, edit, swap, write_entries
from tests.fixtures.cli import tongban
from tests.fixtures.db import fresh_database
from tongban.db.session import unit_of_work

ENTRIES = 6


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[tuple[Engine, list[int]]]:
    """A fresh database of its own with a few audit entries, committed."""
    with fresh_database(tmp_path) as engine:
        with unit_of_work(engine) as session:
            seqs = write_entries(session, ENTRIES, tag="cli")
        yield engine, seqs


def run_verify(engine: Engine, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A data dir of its own: no checkpoints of another database are compared with this one.
    return tongban(engine, cwd, "audit", "verify", env={"TONGBAN_DATA_DIR": str(cwd / "data")})


def tamper(engine: Engine, change: Callable[[Connection], None]) -> None:
    """Drop the append-only triggers, change the log and commit: what an intruder would do."""
    with engine.begin() as connection:
        drop_append_only_triggers(connection)
        change(connection)


class TestAuditVerifyCommand:
    def test_an_untampered_log_is_reported_intact_with_exit_code_0(
        self, audited: tuple[Engine, list[int]], tmp_path: Path
    ) -> None:
        engine, seqs = audited

        result = run_verify(engine, tmp_path)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "intact" in result.stdout
        assert f"{len(seqs)} entries verified" in result.stdout

    @pytest.mark.parametrize(
        ("change", "bad_index", "problem"),
        [
            pytest.param(
                lambda c, s: edit(c, s[3], "actor", "intruder"),
                3,
                "content does not match its hash",
                id="edited",
            ),
            pytest.param(lambda c, s: delete(c, s[2]), 2, "is missing", id="deleted"),
            pytest.param(lambda c, s: swap(c, s[1], s[2]), 1, "does not link", id="swapped"),
            pytest.param(
                lambda c, s: delete(c, s[4], s[5]),
                4,
                "ends before the recorded head",
                id="truncated",
            ),
        ],
    )
    def test_a_tampered_log_exits_2_naming_the_first_bad_entry(
        self,
        audited: tuple[Engine, list[int]],
        tmp_path: Path,
        change: Callable[[Connection, list[int]], None],
        bad_index: int,
        problem: str,
    ) -> None:
        engine, seqs = audited
        tamper(engine, lambda connection: change(connection, seqs))

        result = run_verify(engine, tmp_path)

        assert result.returncode == 2, f"{result.stdout}{result.stderr}"
        assert f"broken at entry {seqs[bad_index]}:" in result.stdout
        assert problem in result.stdout
        assert f"({bad_index} entries before it verified)" in result.stdout


class TestAuditListCommand:
    def test_a_command_line_change_names_its_operator(self, tmp_path: Path) -> None:
        with fresh_database(tmp_path) as engine:
            env = {"TONGBAN_OPERATOR": "alice", "TONGBAN_DATA_DIR": str(tmp_path / "data")}
            created = tongban(
                engine,
                tmp_path,
                *("accounts", "create", "cli_person", "--name", "某人"),
                *("--kind", "applicant", "--password", "a-long-password-1"),
                env=env,
            )
            assert created.returncode == 0, created.stdout + created.stderr
            assert tongban(engine, tmp_path, "audit", "sequence", env=env).returncode == 0

            listed = tongban(engine, tmp_path, "audit", "list", "--action", "identity.", env=env)

        assert listed.returncode == 0, listed.stdout + listed.stderr
        [line] = [x for x in listed.stdout.splitlines() if "identity.account_created" in x]
        assert "\toperator:alice\t" in line
