"""Export a Flow to one Docker Compose file for a single host: `write_docker_compose(plan, 'docker-compose.yml')`.

The same units as the Kubernetes export (`graph/k8s_units.py`): one service per executor shard
(`deploy.replicas` copies), one gateway service publishing its ports, health checks on the gRPC
health service, the topology document as a Compose `config` mounted where the gateway reads it.
Compose's DNS answers a service name with every replica's address, so the gateway reaches each
shard at `dns:///<service>:8081` exactly as on Kubernetes. Needs Docker Compose 2.23.1 or later
(inline `configs.content`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowql.graph.k8s_scripts import HEALTHCHECK_SCRIPT, HTTP_HEALTHCHECK_SCRIPT
from flowql.graph.k8s_units import ContainerUnit, DeploymentPlan, deployment_plan
from flowql.graph.kubernetes import DEFAULT_IMAGE, dump_yaml
from flowql.graph.plan import FlowPlan

__all__ = ["HEALTHCHECK_SCRIPT", "HTTP_HEALTHCHECK_SCRIPT", "docker_compose_document", "write_docker_compose"]

_TOPOLOGY_CONFIG = "flowql-topology"


def compose_address(unit: ContainerUnit) -> str:
    """How the gateway reaches an executor unit on the Compose network: the service name, all replicas."""
    return f"dns:///{unit.name}:{unit.ports['grpc']}"


def _escape(value: Any) -> Any:
    # Compose interpolates `$VAR` in every string (a `when` filter's "$eq" included); `$$` is a literal `$`.
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(item) for item in value]
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    return value


def _healthcheck(unit: ContainerUnit) -> dict[str, Any]:
    script = HEALTHCHECK_SCRIPT if unit.health == "grpc" else HTTP_HEALTHCHECK_SCRIPT
    check: dict[str, Any] = {
        "test": ["CMD", "python", "-c", script, str(unit.health_port)],
        "interval": "5s",
        "timeout": "5s",
        "retries": 3,
    }
    if unit.startup_s is not None:
        # Failures while the executor loads (up to timeout_ready) do not count against it.
        check["start_period"] = f"{int(unit.startup_s)}s"
    return check


def _service(unit: ContainerUnit, image: str) -> dict[str, Any]:
    service: dict[str, Any] = {
        "image": image,
        "entrypoint": ["flowql"],
        "command": list(unit.args),
    }
    if unit.env:
        service["environment"] = dict(unit.env)
    service["healthcheck"] = _healthcheck(unit)
    service["stop_grace_period"] = f"{unit.stop_grace_s}s"
    if unit.replicas != 1:
        service["deploy"] = {"replicas": unit.replicas}
    return service


def docker_compose_document(
    plan: FlowPlan, *, image: str = DEFAULT_IMAGE, project_root: str | Path | None = None
) -> dict[str, Any]:
    """The Compose file as a mapping (services, the topology config), `$` already escaped for Compose."""
    root = Path.cwd() if project_root is None else Path(project_root)
    deployment: DeploymentPlan = deployment_plan(plan, address_of=compose_address, project_root=root)
    services: dict[str, Any] = {}
    for unit in deployment.executors:
        service = _service(unit, image)
        service["expose"] = [str(port) for port in unit.ports.values()]
        services[unit.name] = service
    gateway = _service(deployment.gateway, image)
    gateway["ports"] = [f"{port}:{port}" for port in deployment.gateway.ports.values()]
    gateway["configs"] = [{"source": _TOPOLOGY_CONFIG, "target": deployment.topology_path}]
    # Start the gateway once every executor reports healthy, so its first requests find them.
    gateway["depends_on"] = {unit.name: {"condition": "service_healthy"} for unit in deployment.executors}
    services[deployment.gateway.name] = gateway
    document = {
        "services": services,
        "configs": {_TOPOLOGY_CONFIG: {"content": deployment.topology.to_json()}},
    }
    escaped: dict[str, Any] = _escape(document)
    return escaped


def write_docker_compose(
    plan: FlowPlan,
    path: str | os.PathLike[str] = "docker-compose.yml",
    image: str = DEFAULT_IMAGE,
    *,
    project_root: str | Path | None = None,
) -> Path:
    """Write the Compose file for `plan` to `path` (its folder is created); `docker compose -f PATH up` runs it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dump_yaml([docker_compose_document(plan, image=image, project_root=project_root)]))
    return target
