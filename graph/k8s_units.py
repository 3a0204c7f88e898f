"""`DeploymentPlan`: a Flow as deployable units, the part Kubernetes and Docker Compose exports share.

One unit per executor shard (its replicas are copies of one container) and one for the gateway.
Each unit says exactly what its container runs: `flowql executor ...` / `flowql gateway ...` with
the arguments `WorkerSettings.to_argv()` / `GatewaySettings.to_argv()` write, the environment, and the
fixed port it listens on. Every container listens on all interfaces at a fixed port (each runs in
its own network namespace), and the gateway reads the topology document from a mounted file whose
addresses the caller chooses (`address_of`): Kubernetes DNS names, Compose service names.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from flowql._exceptions import ConfigurationError
from flowql.graph.k8s_uses import portable_path, portable_uses
from flowql.graph.plan import FlowPlan
from flowql.graph.spec import ExecutorSpec
from flowql.graph.workers import worker_settings
from flowql.topology import Topology

__all__ = [
    "EXECUTOR_PORT",
    "GATEWAY_DEFAULT_PORTS",
    "TOPOLOGY_DIR",
    "TOPOLOGY_FILE",
    "ContainerUnit",
    "DeploymentPlan",
    "deployment_plan",
    "unit_name",
]

EXECUTOR_PORT = 8081
"""The gRPC port every executor container listens on (each pod has its own network namespace)."""

GATEWAY_DEFAULT_PORTS = {"http": 8080, "grpc": 8081, "websocket": 8082}
"""Gateway ports per protocol when the Flow names none (a local Flow's picked ports are not exported)."""

TOPOLOGY_DIR = "/etc/flowql"
TOPOLOGY_FILE = "topology.json"

# A DNS-1035 label: what a Kubernetes Service name (and so a DNS name) must be.
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Seconds added to an executor's grace before the orchestrator kills it: the worker needs a moment
# after its grace period to close the Executor.
_KILL_MARGIN_S = 5


@dataclass(frozen=True)
class ContainerUnit:
    """One Deployment (or Compose service): a container started `replicas` times behind one name."""

    # DNS-1035 label: the Deployment's and the Service's name, so also the host name callers use.
    name: str
    role: Literal["executor", "gateway"]
    # The Flow's executor name (the gateway's name for the gateway) and the shard this unit serves.
    component: str
    shard: int
    replicas: int
    # Arguments after `flowql`: the role, then the role's own arguments.
    args: list[str]
    env: dict[str, str]
    # Port name (the protocol) -> container port.
    ports: dict[str, int]
    # How health is checked: gRPC health service on `health_port`, or HTTP GET /status.
    health: Literal["grpc", "http"]
    health_port: int
    # Seconds the orchestrator waits after SIGTERM before it kills the container.
    stop_grace_s: int
    # Seconds the container may take to become healthy the first time (timeout_ready); None: no bound.
    startup_s: float | None


@dataclass(frozen=True)
class DeploymentPlan:
    """Executor units in Flow order, the gateway unit, and the topology document the gateway reads."""

    executors: list[ContainerUnit]
    gateway: ContainerUnit
    topology: Topology

    @property
    def units(self) -> list[ContainerUnit]:
        return [*self.executors, self.gateway]

    @property
    def topology_path(self) -> str:
        return f"{TOPOLOGY_DIR}/{TOPOLOGY_FILE}"


def unit_name(executor: str, shard: int, shards: int) -> str:
    """The DNS-1035 name of one executor shard: `my_Exec` -> `my-exec`, shard 1 of 2 -> `my-exec-shard-1`."""
    base = re.sub(r"[^a-z0-9-]+", "-", executor.lower()).strip("-")
    base = re.sub(r"-{2,}", "-", base)
    if not base or not base[0].isalpha():
        base = f"executor-{base}".rstrip("-")
    name = base if shards == 1 else f"{base}-shard-{shard}"
    if not _DNS_LABEL.match(name):
        raise ConfigurationError(
            f"executor {executor!r} becomes the name {name!r}, which is not a valid Kubernetes Service name "
            "(at most 63 lowercase letters, digits and '-'); give the executor a shorter name"
        )
    return name


def deployment_plan(
    plan: FlowPlan,
    *,
    address_of: Callable[[ContainerUnit], str],
    project_root: str | Path,
) -> DeploymentPlan:
    """The units of `plan`; `address_of(unit)` is how the gateway reaches an executor unit.

    `project_root` is the folder the image holds as its working directory (/app in the Dockerfile):
    paths in `uses` and `py_modules` are written relative to it. Raises ConfigurationError for what
    cannot run in a container (a class defined in `__main__`, a path outside the project).
    """
    plan.validate()
    root = Path(project_root).resolve()
    executors: list[ContainerUnit] = []
    addresses: dict[str, list[list[str]]] = {}
    for spec in plan.executors:
        if spec.external:
            continue
        shard_units = _executor_units(plan, spec, root)
        executors.extend(shard_units)
        addresses[spec.name] = [[address_of(unit)] for unit in shard_units]
    _refuse_duplicate_names(executors, plan.settings.gateway.name)
    topology = plan.topology(addresses)
    return DeploymentPlan(executors=executors, gateway=_gateway_unit(plan), topology=topology)


def _executor_units(plan: FlowPlan, spec: ExecutorSpec, root: Path) -> list[ContainerUnit]:
    uses = portable_uses(spec, root)
    modules = [portable_path(module, root, spec.name, "py_modules") for module in [*uses.py_modules, *spec.py_modules]]
    env = {**plan.settings.env, **spec.env}
    units = []
    # Pods of one Deployment are identical, so every replica runs replica 0's settings; the pod name
    # (HOSTNAME) tells them apart.
    shards = worker_settings(spec, uses, host="0.0.0.0", port=EXECUTOR_PORT, py_modules=modules)
    for shard, settings in enumerate(replicas[0] for replicas in shards):
        units.append(
            ContainerUnit(
                name=unit_name(spec.name, shard, spec.shards),
                role="executor",
                component=spec.name,
                shard=shard,
                replicas=spec.replicas,
                args=["executor", *settings.to_argv()],
                env=env,
                ports={"grpc": EXECUTOR_PORT},
                health="grpc",
                health_port=EXECUTOR_PORT,
                stop_grace_s=math.ceil(spec.grace) + _KILL_MARGIN_S,
                startup_s=plan.ready_timeout(spec),
            )
        )
    return units


def _gateway_unit(plan: FlowPlan) -> ContainerUnit:
    gateway = plan.settings.gateway
    given = plan.settings.ports_given
    ports = [
        port if given and port else GATEWAY_DEFAULT_PORTS[protocol]
        for protocol, port in zip(gateway.protocols, gateway.ports, strict=True)
    ]
    if len(set(ports)) != len(ports):
        raise ConfigurationError(f"the gateway's protocols {gateway.protocols} need distinct ports, got {ports}")
    settings = dataclasses.replace(gateway, host="0.0.0.0", ports=ports, topology=f"{TOPOLOGY_DIR}/{TOPOLOGY_FILE}")
    by_protocol = dict(zip(gateway.protocols, ports, strict=True))
    name = unit_name(gateway.name, 0, 1)
    health: Literal["grpc", "http"] = "grpc" if "grpc" in by_protocol else "http"
    health_port = by_protocol["grpc"] if health == "grpc" else ports[0]
    return ContainerUnit(
        name=name,
        role="gateway",
        component=gateway.name,
        shard=0,
        replicas=1,
        args=["gateway", *settings.to_argv()],
        env=dict(plan.settings.env),
        ports=by_protocol,
        health=health,
        health_port=health_port,
        stop_grace_s=10,
        startup_s=plan.ready_timeout(),
    )


def _refuse_duplicate_names(units: list[ContainerUnit], gateway_name: str) -> None:
    seen: dict[str, str] = {unit_name(gateway_name, 0, 1): f"the gateway {gateway_name!r}"}
    for unit in units:
        other = seen.get(unit.name)
        if other is not None:
            raise ConfigurationError(
                f"executor {unit.component!r} and {other} both become the Kubernetes name {unit.name!r}; "
                "rename one of them"
            )
        seen[unit.name] = f"executor {unit.component!r}"
