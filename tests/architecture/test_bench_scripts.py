"""Every benchmark runs as the README says, ``python bench/<name>.py``: with its folder first on
sys.path, where ``bench/http.py`` would stand in for the standard library's ``http``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_the_benchmark_starts_and_explains_its_options(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=BENCH.parent,
    )
    assert run.returncode == 0, run.stderr
    assert "--quick" in run.stdout
