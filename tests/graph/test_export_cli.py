"""`flowql export kubernetes|docker-compose flow.yml ...`: from a Flow YAML to files on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowql import ConfigurationError, Flow
from flowql.graph.docker_compose import write_docker_compose
from flowql.graph.export_cli import main
from flowql.graph.kubernetes import write_kubernetes
from tests.graph.test_kubernetes import sample_flow

FLOW_YAML = """\
jtype: Flow
with:
  protocol: [http, grpc]
  port: [8000, 9000]
executors:
  - name: upper
    uses: tests.graph.sample_executors:Upper
    uses_with: {suffix: "!"}
  - name: mine
    uses: Mine
    py_modules: [execs/mine.py]
    replicas: 2
"""


@pytest.fixture
def flow_yaml(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "execs").mkdir(parents=True)
    (project / "execs" / "mine.py").write_text("from flowql import Executor\n\n\nclass Mine(Executor):\n    pass\n")
    path = project / "flow.yml"
    path.write_text(FLOW_YAML)
    return path


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_export_kubernetes_writes_manifests_for_the_flow_yaml(flow_yaml: Path, tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    code = main(["kubernetes", str(flow_yaml), str(out), "--namespace", "search", "--image", "registry.test/flow:1"])
    assert code == 0
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["00-namespace.yml", "upper.yml", "mine.yml", "gateway.yml"]
    deployment, service = _documents(out / "mine.yml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.test/flow:1"
    # py_modules relative to the Flow YAML's folder: the project the image holds at /app.
    assert "--py-modules=execs/mine.py" in container["args"]
    assert deployment["spec"]["replicas"] == 2
    assert service["spec"]["clusterIP"] == "None"
    gateway = _documents(out / "gateway.yml")[1]["spec"]["template"]["spec"]["containers"][0]
    assert [port["containerPort"] for port in gateway["ports"]] == [8000, 9000]


def test_export_docker_compose_writes_one_file(flow_yaml: Path, tmp_path: Path) -> None:
    path = tmp_path / "compose" / "docker-compose.yml"
    assert main(["docker-compose", str(flow_yaml), str(path)]) == 0
    services = yaml.safe_load(path.read_text())["services"]
    assert list(services) == ["upper", "mine", "gateway"]
    assert services["mine"]["deploy"] == {"replicas": 2}
    assert services["upper"]["image"] == "flowql:latest"


def test_export_reports_bad_input_in_one_line_and_exits_1(
    flow_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kubernetes", str(tmp_path / "missing.yml"), str(tmp_path / "out")]) == 1
    assert "flowql export: no Flow YAML file at" in capsys.readouterr().err
    assert main(["kubernetes", str(flow_yaml), str(tmp_path / "out"), "--namespace", "Not_Valid"]) == 1
    assert "not a valid Kubernetes namespace" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_flowql_command_dispatches_the_export_role(flow_yaml: Path, tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "export", "kubernetes", str(flow_yaml), str(out)],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stderr
    assert "kubectl apply -k" in result.stderr
    assert (out / "kustomization.yaml").is_file()
    assert str(out / "gateway.yml") in result.stdout.split()


def test_flow_methods_write_what_the_export_functions_write(tmp_path: Path) -> None:
    flow = sample_flow()
    flow.to_kubernetes_yaml(tmp_path / "method", k8s_namespace="search", image="registry.test/flow:1")
    write_kubernetes(flow.plan, tmp_path / "function", namespace="search", image="registry.test/flow:1")
    for path in (tmp_path / "function").iterdir():
        assert (tmp_path / "method" / path.name).read_text() == path.read_text()
    compose = flow.to_docker_compose_yaml(tmp_path / "method.yml", image="registry.test/flow:1")
    expected = write_docker_compose(flow.plan, tmp_path / "function.yml", image="registry.test/flow:1")
    assert compose.read_text() == expected.read_text()


def test_flow_methods_write_paths_relative_to_the_project_root_given(
    flow_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = flow_yaml.parent
    flow = Flow.load_config(flow_yaml)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # From another working directory, the default project root does not hold execs/mine.py.
    with pytest.raises(ConfigurationError):
        flow.to_kubernetes_yaml(tmp_path / "refused")
    flow.to_kubernetes_yaml(tmp_path / "method", project_root=project)
    write_kubernetes(flow.plan, tmp_path / "function", project_root=project)
    for path in (tmp_path / "function").iterdir():
        assert (tmp_path / "method" / path.name).read_text() == path.read_text()
    assert "--py-modules=execs/mine.py" in (tmp_path / "method" / "mine.yml").read_text()
    compose = flow.to_docker_compose_yaml(tmp_path / "method.yml", project_root=project)
    expected = write_docker_compose(flow.plan, tmp_path / "function.yml", project_root=project)
    assert compose.read_text() == expected.read_text()
