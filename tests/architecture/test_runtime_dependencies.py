"""The platform imports only what a plain install brings: every third-party package imported by
``tongban/`` is a runtime dependency in pyproject.toml, not one of the development extras (a
module the tests happen to install would break ``./run`` on a fresh machine)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import tongban

ROOT = Path(tongban.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}


def _imported_top_levels() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    runtime = _requirement_names(project["dependencies"])
    distributions = packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in ("tongban", "__future__"):
            continue
        provided_by = {_normal(d) for d in distributions.get(module, [])}
        if not provided_by & runtime:
            missing.append(f"{module} (imported in {where.relative_to(ROOT.parent)})")
    assert not missing, f"imported but not a runtime dependency: {missing}"
