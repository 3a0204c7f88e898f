"""Docker Compose export: the same units as Kubernetes, Compose-shaped, and health checks that really check."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from flowql import Executor
from flowql.executors.worker import ExecutorWorker
from flowql.graph.docker_compose import HEALTHCHECK_SCRIPT, docker_compose_document, write_docker_compose
from flowql.topology import Topology
from tests.graph.test_kubernetes import REPO_ROOT, sample_flow


def _compose(tmp_path: Path) -> dict[str, Any]:
    path = write_docker_compose(sample_flow().plan, tmp_path / "deploy" / "docker-compose.yml", project_root=REPO_ROOT)
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def _unescape(text: str) -> str:
    return text.replace("$$", "$")


def test_one_service_per_shard_with_replicas_and_a_gateway_publishing_its_ports(tmp_path: Path) -> None:
    services = _compose(tmp_path)["services"]
    assert list(services) == ["upper", "tag-rep", "index-shard-0", "index-shard-1", "only-k1", "gateway"]
    assert services["tag-rep"]["deploy"] == {"replicas": 2}
    assert "deploy" not in services["upper"]
    assert services["gateway"]["ports"] == ["8080:8080", "8081:8081"]
    assert services["gateway"]["depends_on"]["index-shard-1"] == {"condition": "service_healthy"}
    assert services["upper"]["entrypoint"] == ["flowql"]
    assert services["upper"]["command"][0] == "executor"
    assert services["upper"]["environment"] == {"FLOWQL_LOG_LEVEL": "INFO", "MODE": "k8s"}


def test_gateway_reads_the_topology_from_a_config_with_compose_service_names(tmp_path: Path) -> None:
    document = _compose(tmp_path)
    gateway = document["services"]["gateway"]
    (config,) = gateway["configs"]
    assert config["target"] == "/etc/flowql/topology.json"
    assert "--topology=/etc/flowql/topology.json" in gateway["command"]
    topology = Topology.from_json(_unescape(document["configs"][config["source"]]["content"]))
    assert topology.node("index").shards == [["dns:///index-shard-0:8081"], ["dns:///index-shard-1:8081"]]
    assert topology.node("only_k1").when == {"tags__k": {"$eq": 1}}


def test_dollar_signs_are_escaped_from_compose_interpolation() -> None:
    document = docker_compose_document(sample_flow().plan, project_root=REPO_ROOT)
    content = document["configs"]["flowql-topology"]["content"]
    assert '"$$eq"' in content
    assert "$eq" not in content.replace("$$eq", "")


def test_every_service_has_a_healthcheck_on_its_grpc_port(tmp_path: Path) -> None:
    services = _compose(tmp_path)["services"]
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        assert _unescape(test[3]) == HEALTHCHECK_SCRIPT
        assert test[4] == "8081"


class _Passthrough(Executor):
    pass


async def _run_healthcheck(port: str) -> tuple[int, bytes]:
    # A subprocess the event loop waits on without blocking: the worker answers on this same loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HEALTHCHECK_SCRIPT, port, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode is not None
    return process.returncode, stderr


async def test_the_healthcheck_command_passes_on_a_serving_executor_and_fails_on_a_closed_port() -> None:
    async with ExecutorWorker(_Passthrough(), name="probe") as worker:
        port = str(worker.port)
        serving, stderr = await _run_healthcheck(port)
    # The worker is stopped now: nothing listens on its port.
    closed, _ = await _run_healthcheck(port)
    assert serving == 0, stderr
    assert closed != 0


def test_compose_file_round_trips_through_yaml_and_json(tmp_path: Path) -> None:
    document = _compose(tmp_path)
    assert document == json.loads(json.dumps(document))
    assert document == docker_compose_document(sample_flow().plan, project_root=REPO_ROOT)
