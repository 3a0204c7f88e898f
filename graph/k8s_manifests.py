"""Kubernetes objects for the units of a `DeploymentPlan`: Deployments, Services, the topology ConfigMap.

Executor Services are headless (`clusterIP: None`): a ClusterIP Service balances connections, and
gRPC keeps one HTTP/2 connection open per channel, so every request of the gateway would land on
the same pod. With a headless Service the DNS name answers with every ready pod's address and the
gateway balances requests over them itself (`dns:///` target, round_robin). The gateway's own
Service is a plain ClusterIP one: its callers open many connections.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from flowql.graph.k8s_scripts import WAIT_FOR_EXECUTORS_SCRIPT
from flowql.graph.k8s_units import TOPOLOGY_DIR, TOPOLOGY_FILE, ContainerUnit, DeploymentPlan

__all__ = [
    "RESOURCE_PLACEHOLDER",
    "escape_dollars",
    "executor_objects",
    "gateway_objects",
    "namespace_object",
    "unit_labels",
]

RESOURCE_PLACEHOLDER = "PLACEHOLDER: measure this container and set its requests (and limits) before production"
"""The comment the YAML writer puts on every `resources:` key (a YAML comment: Kubernetes never sees it)."""

# Small, valid requests so the manifests apply as they are; the comment above says to set real ones.
_PLACEHOLDER_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
_PART_OF = "flowql"
_TOPOLOGY_VOLUME = "topology"
# Probe cadence: readiness reacts within ~10 s, liveness restarts a hung process after ~30 s.
_READINESS = {"periodSeconds": 5, "failureThreshold": 2, "timeoutSeconds": 2}
_LIVENESS = {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 2}
_STARTUP_PERIOD_S = 2


def unit_labels(unit: ContainerUnit) -> dict[str, str]:
    """The labels of a unit's objects; the first one is the selector that ties a Service to its pods."""
    labels = {
        "app.kubernetes.io/name": unit.name,
        "app.kubernetes.io/component": unit.role,
        "app.kubernetes.io/part-of": _PART_OF,
    }
    if unit.role == "executor":
        labels["flowql.dev/executor"] = _label_value(unit.component)
        labels["flowql.dev/shard"] = str(unit.shard)
    return labels


def _label_value(text: str) -> str:
    # Label values allow [A-Za-z0-9_.-], at most 63 characters, alphanumeric at both ends.
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in text)[:63]
    return cleaned.strip("_.-") or "executor"


def _metadata(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def namespace_object(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}


def escape_dollars(text: str) -> str:
    """`text` as Kubernetes must be given it in args and env: the kubelet expands `$(VAR)` and reads `$$` as `$`."""
    return text.replace("$", "$$")


def _probe(unit: ContainerUnit) -> dict[str, Any]:
    if unit.health == "grpc":
        # The gRPC health service's "" entry: SERVING while the process serves, NOT_SERVING once it stops.
        return {"grpc": {"port": unit.health_port}}
    return {"httpGet": {"path": "/status", "port": unit.health_port}}


def _container(unit: ContainerUnit, image: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": unit.role,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["flowql"],
        "args": [escape_dollars(arg) for arg in unit.args],
        "ports": [
            {"name": protocol, "containerPort": port, "protocol": "TCP"} for protocol, port in unit.ports.items()
        ],
        "env": [{"name": key, "value": escape_dollars(value)} for key, value in unit.env.items()],
        "resources": {"requests": dict(_PLACEHOLDER_REQUESTS)},
        "readinessProbe": {**_probe(unit), **_READINESS},
        "livenessProbe": {**_probe(unit), **_LIVENESS},
    }
    if unit.startup_s is not None:
        # Until the first success, liveness is off: loading a model may take as long as timeout_ready.
        failures = max(1, math.ceil(unit.startup_s / _STARTUP_PERIOD_S))
        container["startupProbe"] = {**_probe(unit), "periodSeconds": _STARTUP_PERIOD_S, "failureThreshold": failures}
    if not container["env"]:
        del container["env"]
    return container


def _deployment(
    unit: ContainerUnit,
    image: str,
    namespace: str | None,
    *,
    extra_pod: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = unit_labels(unit)
    container = _container(unit, image)
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "terminationGracePeriodSeconds": unit.stop_grace_s,
    }
    template_metadata: dict[str, Any] = {"labels": labels}
    if annotations:
        template_metadata["annotations"] = annotations
    if extra_pod:
        container.update(extra_pod.get("container", {}))
        pod_spec.update(extra_pod.get("pod", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(unit.name, namespace, labels),
        "spec": {
            "replicas": unit.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": unit.name}},
            # One new pod at a time, and never fewer ready pods than asked for during a roll.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }


def _service(unit: ContainerUnit, namespace: str | None, *, headless: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"app.kubernetes.io/name": unit.name},
        "ports": [
            {"name": protocol, "port": port, "targetPort": protocol, "protocol": "TCP", "appProtocol": _app(protocol)}
            for protocol, port in unit.ports.items()
        ],
    }
    if headless:
        spec["clusterIP"] = "None"
    else:
        spec["type"] = "ClusterIP"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(unit.name, namespace, unit_labels(unit)),
        "spec": spec,
    }


def _app(protocol: str) -> str:
    return {"grpc": "grpc", "http": "http", "websocket": "http"}[protocol]


def executor_objects(unit: ContainerUnit, image: str, namespace: str | None) -> list[dict[str, Any]]:
    """The Deployment and the headless Service of one executor shard."""
    return [_deployment(unit, image, namespace), _service(unit, namespace, headless=True)]


def gateway_objects(plan: DeploymentPlan, image: str, namespace: str | None) -> list[dict[str, Any]]:
    """The topology ConfigMap, the gateway Deployment that mounts it, and the gateway's ClusterIP Service."""
    unit = plan.gateway
    topology_json = plan.topology.to_json()
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(f"{unit.name}-topology", namespace, unit_labels(unit)),
        "data": {TOPOLOGY_FILE: topology_json},
    }
    # A changed topology changes the pod template, so re-applying the manifests rolls the gateway.
    digest = hashlib.sha256(topology_json.encode()).hexdigest()[:16]
    volume_mounts = [{"name": _TOPOLOGY_VOLUME, "mountPath": TOPOLOGY_DIR, "readOnly": True}]
    # The gateway builds its GraphQL schema from the executors' endpoints when it starts: wait for them.
    wait = {
        "name": "wait-for-executors",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-c", WAIT_FOR_EXECUTORS_SCRIPT, plan.topology_path],
        "volumeMounts": volume_mounts,
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
    }
    mount = {
        "container": {"volumeMounts": volume_mounts},
        "pod": {
            "initContainers": [wait],
            "volumes": [{"name": _TOPOLOGY_VOLUME, "configMap": {"name": f"{unit.name}-topology"}}],
        },
    }
    deployment = _deployment(
        unit, image, namespace, extra_pod=mount, annotations={"flowql.dev/topology-sha256": digest}
    )
    return [config_map, deployment, _service(unit, namespace, headless=False)]
