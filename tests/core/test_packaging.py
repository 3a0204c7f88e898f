"""The package installs under one import name from its four top-level folders, editable or as a wheel."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

FOLDERS = {
    "flowql": "flowql",
    "app": "flowql.app",
    "graph": "flowql.graph",
    "executors": "flowql.executors",
    "client": "flowql.client",
}


def all_source_modules() -> list[str]:
    """Every module of the source tree, under the import name it is installed as."""
    modules = []
    for folder, package in FOLDERS.items():
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT / folder).with_suffix("")
            parts = [part for part in relative.parts if part != "__init__"]
            if parts and parts[-1] == "__main__":
                continue
            modules.append(".".join([package, *parts]))
    return modules


IMPORT_ALL = textwrap.dedent(
    """
    import importlib, json, sys
    files = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
    print(json.dumps(files))
    """
)


def import_from(cwd: Path, modules: list[str], extra_path: str | None = None) -> dict[str, str]:
    env_path = [extra_path] if extra_path else []
    command = [sys.executable, "-c", IMPORT_ALL, *modules]
    env = {"PYTHONPATH": ":".join(env_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    import json

    files: dict[str, str] = json.loads(result.stdout)
    return files


def test_editable_install_imports_every_module_from_outside_the_repository(tmp_path: Path) -> None:
    modules = all_source_modules()
    files = import_from(tmp_path, modules)
    assert set(files) == set(modules)
    assert files["flowql.app.settings"] == str(REPO_ROOT / "app" / "settings.py")


@pytest.mark.timeout(180)
def test_wheel_install_imports_every_module(tmp_path: Path) -> None:
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    build = [sys.executable, "-m", "pip", "wheel", str(REPO_ROOT), "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(wheel_dir)], check=True, capture_output=True, timeout=120)
    (wheel,) = wheel_dir.glob("flowql-*.whl")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=120)
    modules = all_source_modules()
    files = import_from(tmp_path, modules, extra_path=str(target))
    outside = {name: file for name, file in files.items() if not file.startswith(str(target))}
    assert not outside, f"modules not served by the wheel: {outside}"
    assert (target / "flowql" / "proto" / "flowql.proto").exists()
    assert (target / "flowql" / "py.typed").exists()
    # GraphiQL's vendored assets (app/static/graphiql/): the gateway serves GraphiQL offline from them.
    graphiql = target / "flowql" / "app" / "static" / "graphiql"
    assert (graphiql / "graphiql.min.js").stat().st_size > 1_000_000
    assert (graphiql / "LICENSE.graphiql.txt").exists()


def test_console_script_and_module_entry_point_print_usage() -> None:
    script = Path(sys.executable).parent / "flowql"
    for command in ([str(script), "--help"], [sys.executable, "-m", "flowql", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "usage: flowql <role>" in result.stdout
        assert "executor" in result.stdout and "gateway" in result.stdout
