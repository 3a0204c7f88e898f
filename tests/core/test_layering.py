"""The dependency rules of DESIGN.md: the core imports no package above it; executors, app and client
never import the Flow; the client never imports the gateway or the executors; executors never import
the gateway. Checked on every import statement, function-local ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

FORBIDDEN = {
    "executors": ("flowql.graph", "flowql.app", "flowql.client"),
    "app": ("flowql.graph", "flowql.executors", "flowql.client"),
    "client": ("flowql.graph", "flowql.app", "flowql.executors"),
}
# The core's public face (__init__, __main__) re-exports and dispatches lazily; the rest of the core
# imports nothing above it.
CORE_FORBIDDEN = ("flowql.graph", "flowql.app", "flowql.client", "flowql.executors")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for line, module in imported_modules(path):
            if module.startswith(forbidden):
                bad.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_package_imports_respect_the_layering(folder: str) -> None:
    assert violations(sorted((REPO_ROOT / folder).rglob("*.py")), FORBIDDEN[folder]) == []


def test_core_imports_nothing_above_it() -> None:
    core = [p for p in sorted((REPO_ROOT / "flowql").rglob("*.py")) if p.name not in ("__init__.py", "__main__.py")]
    assert violations(core, CORE_FORBIDDEN) == []


def test_the_checker_sees_function_local_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from flowql.graph import Flow\n")
    assert imported_modules(module) == [(2, "flowql.graph.Flow")]
