"""Run exported Kubernetes manifests as local processes: the loopback mapping the simulation test uses.

Each pod of each Deployment becomes one local process running the container's own command, args
and env. What a cluster provides and one machine does not is mapped, and nothing else changes:

1. `command: [flowql]` is the `flowql` entry point of the running interpreter (the image's console
   script), and `command: [python, ...]` (the gateway's init container) that interpreter.
2. Listen address: every container binds `0.0.0.0` at a fixed port, which all pods share on a
   cluster (one network namespace each) but cannot on one machine. Locally each pod binds
   `127.0.0.1` port 0, rewritten through the role's own settings parser (`WorkerSettings` /
   `GatewaySettings`), so all other arguments keep their values.
3. ConfigMap volumes: a container's `mountPath` is a local folder holding the ConfigMap's files
   (and paths under it in an init container's arguments point there).
4. `$$` in command, args and env reads as `$`, as the kubelet reads it (its `$(VAR)` expansion is
   otherwise unused: the export escapes every `$`).
5. Service DNS names: the topology's `dns:///<service>[.<ns>.svc.<domain>]:<port>` becomes
   `ipv4:127.0.0.1:<p1>,127.0.0.1:<p2>,...`: the loopback addresses of the pods the Service's
   selector matches (what the headless Service's DNS answer lists), in gRPC's multi-address form.

Executors start before the gateway, because the gateway's topology needs their bound ports; a
pod's init containers run to completion before its container starts, as on a cluster.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flowql.app.settings import GatewaySettings
from flowql.executors.settings import WorkerSettings

__all__ = ["PodCommand", "read_manifests", "pod_commands", "service_backends", "loopback_topology"]

_DNS_TARGET = re.compile(r"^dns:///(?P<host>[^:/]+):(?P<port>\d+)$")


@dataclass(frozen=True)
class PodCommand:
    """One pod of a Deployment as a local process: its argv (mapped) and the container's env (unchanged)."""

    deployment: str
    replica: int
    role: str
    argv: list[str]
    env: dict[str, str]
    labels: dict[str, str]
    # For the gateway: the local folder standing for each ConfigMap mount, and the ConfigMap's files.
    mounts: dict[str, dict[str, str]]
    # Init containers' argv (mapped), to run one after the other before `argv`.
    init: list[list[str]]


def read_manifests(folder: str | Path) -> list[dict[str, Any]]:
    """Every object of the files `kustomization.yaml` in `folder` lists, in its order."""
    root = Path(folder)
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        objects.extend(doc for doc in yaml.safe_load_all((root / name).read_text()) if doc)
    return objects


def _config_maps(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {obj["metadata"]["name"]: dict(obj.get("data") or {}) for obj in objects if obj["kind"] == "ConfigMap"}


def pod_commands(
    objects: list[dict[str, Any]], *, flowql_command: list[str], python_command: list[str], mount_root: str | Path
) -> list[PodCommand]:
    """The local processes for every pod, executors first; ConfigMap mounts go under `mount_root`."""
    config_maps = _config_maps(objects)
    pods: list[PodCommand] = []
    for deployment in (obj for obj in objects if obj["kind"] == "Deployment"):
        name = deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        container = template["spec"]["containers"][0]
        volumes = {v["name"]: v["configMap"]["name"] for v in template["spec"].get("volumes", []) if "configMap" in v}
        mounts: dict[str, dict[str, str]] = {}
        paths: dict[str, str] = {}
        for mount in container.get("volumeMounts", []):
            local = Path(mount_root) / name / mount["name"]
            paths[mount["mountPath"]] = str(local)
            mounts[str(local)] = config_maps[volumes[mount["name"]]]
        init = [
            _init_argv(init_container, python_command, paths)
            for init_container in template["spec"].get("initContainers", [])
        ]
        command = container["command"]
        if command[0] != "flowql":
            raise ValueError(f"deployment {name!r} runs {command!r}, not flowql")
        role, *role_args = [_kubelet_unescape(arg) for arg in container["args"]]
        argv = [*flowql_command, *command[1:], role, *_loopback_args(role, role_args, paths)]
        env = {item["name"]: _kubelet_unescape(item["value"]) for item in container.get("env", [])}
        labels = dict(template["metadata"]["labels"])
        pods.extend(
            PodCommand(name, replica, role, argv, env, labels, mounts, init)
            for replica in range(deployment["spec"]["replicas"])
        )
    return sorted(pods, key=lambda pod: pod.role == "gateway")


def _kubelet_unescape(text: str) -> str:
    # The kubelet turns `$$` into `$` (and would expand `$(VAR)`, which the export never leaves unescaped).
    return text.replace("$$", "$")


def _init_argv(container: dict[str, Any], python_command: list[str], mount_paths: Mapping[str, str]) -> list[str]:
    command = [_kubelet_unescape(arg) for arg in [*container["command"], *container.get("args", [])]]
    if command[0] != "python":
        raise ValueError(f"init container {container['name']!r} runs {command[0]!r}, not python")
    return [*python_command, *(_under_mount(arg, mount_paths) for arg in command[1:])]


def _under_mount(arg: str, mount_paths: Mapping[str, str]) -> str:
    for mount_path, local in mount_paths.items():
        prefix = mount_path.rstrip("/") + "/"
        if arg.startswith(prefix):
            return local + "/" + arg[len(prefix) :]
    return arg


def _loopback_args(role: str, args: list[str], mount_paths: Mapping[str, str]) -> list[str]:
    if role == "executor":
        worker = dataclasses.replace(WorkerSettings.from_argv(args), host="127.0.0.1", port=0)
        return worker.to_argv()
    if role == "gateway":
        gateway = GatewaySettings.from_argv(args)
        topology = _under_mount(gateway.topology, mount_paths)
        ports = [0] * len(gateway.ports)
        return dataclasses.replace(gateway, host="127.0.0.1", ports=ports, topology=topology).to_argv()
    raise ValueError(f"unknown flowql role {role!r}")


def service_backends(
    objects: list[dict[str, Any]], pod_addresses: Mapping[tuple[str, int], str]
) -> dict[str, list[str]]:
    """Service name -> loopback addresses of the pods its selector matches (what its DNS name answers)."""
    templates = {
        obj["metadata"]["name"]: (obj["spec"]["template"]["metadata"]["labels"], obj["spec"]["replicas"])
        for obj in objects
        if obj["kind"] == "Deployment"
    }
    backends: dict[str, list[str]] = {}
    for service in (obj for obj in objects if obj["kind"] == "Service"):
        selector = service["spec"]["selector"]
        addresses: list[str] = []
        for deployment, (labels, replicas) in templates.items():
            if all(labels.get(key) == value for key, value in selector.items()):
                # Pods not started (yet) have no address, as a pod that is not ready is left out of DNS.
                found = (pod_addresses.get((deployment, replica)) for replica in range(replicas))
                addresses.extend(address for address in found if address)
        backends[service["metadata"]["name"]] = addresses
    return backends


def loopback_topology(topology_json: str, backends: Mapping[str, list[str]]) -> str:
    """The topology document with each Service DNS target replaced by its pods' loopback addresses."""
    data = json.loads(topology_json)
    for node in data["nodes"]:
        node["shards"] = [[_loopback_target(address, backends) for address in replicas] for replicas in node["shards"]]
    return json.dumps(data, indent=2)


def _loopback_target(address: str, backends: Mapping[str, list[str]]) -> str:
    match = _DNS_TARGET.match(address)
    if match is None:
        return address  # an external executor's own address
    service = match["host"].split(".", 1)[0]
    addresses = backends.get(service)
    if not addresses:
        raise KeyError(f"the topology names {address!r}, but no Service {service!r} with pods is in the manifests")
    return "ipv4:" + ",".join(addresses)
