"""The platform imports only what a plain install brings: every third-party package imported by
``tongban/`` is a runtime dependency in pyproject.toml, not one of the development extras (a
module the tests happen to install would break ``./run`` on a fresh machine). A package of an
optional extra (``spark``) may be imported only inside the function that a setting chooses,
never when a module loads."""

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


def _imported_top_levels(*, on_load_only: bool = False) -> dict[str, Path]:
    """Top-level packages imported anywhere (or only those imported when a module loads:
    outside functions and ``if TYPE_CHECKING:``)."""
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _on_load(tree) if on_load_only else ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def _on_load(tree: ast.Module) -> list[ast.AST]:
    """The statements run when the module loads: not function bodies, not type-checking
    blocks."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    runtime = _requirement_names(project["dependencies"])
    optional = _requirement_names(
        [r for extra, rs in project["optional-dependencies"].items() if extra != "dev" for r in rs]
    )
    on_load = _imported_top_levels(on_load_only=True)
    distributions = packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in ("tongban", "__future__"):
            continue
        provided_by = {_normal(d) for d in distributions.get(module, [])}
        if provided_by & runtime or (provided_by & optional and module not in on_load):
            continue
        missing.append(f"{module} (imported in {where.relative_to(ROOT.parent)})")
    assert not missing, f"imported but not a runtime dependency: {missing}"
