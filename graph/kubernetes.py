"""Export a Flow to Kubernetes manifests: `write_kubernetes(plan, output_dir)`, then `kubectl apply -k output_dir`.

>>> write_kubernetes(flow.plan, 'k8s/', namespace='search', image='registry.example/my-flow:1.0')

Writes, per executor shard, `<name>.yml` (a Deployment with the executor's replicas and a headless
Service), `gateway.yml` (the topology ConfigMap, the gateway Deployment and its Service), a
`00-namespace.yml` when a namespace is given, and `kustomization.yaml` listing them. The gateway
reaches every executor shard at `dns:///<service>[.<namespace>.svc.<cluster domain>]:8081`.
docs/kubernetes.md walks through building the image and applying the manifests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from flowql._exceptions import ConfigurationError
from flowql.graph.k8s_manifests import RESOURCE_PLACEHOLDER, executor_objects, gateway_objects, namespace_object
from flowql.graph.k8s_units import ContainerUnit, DeploymentPlan, deployment_plan
from flowql.graph.plan import FlowPlan

__all__ = ["DEFAULT_IMAGE", "KUBERNETES_VERSION", "kubernetes_address", "kubernetes_manifests", "write_kubernetes"]

DEFAULT_IMAGE = "flowql:latest"
KUBERNETES_VERSION = "1.27"
"""The oldest Kubernetes these manifests are for: `grpc:` probes are generally available from 1.27."""

KUSTOMIZATION = "kustomization.yaml"
_NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def kubernetes_address(unit: ContainerUnit, namespace: str | None, cluster_domain: str = "cluster.local") -> str:
    """How the gateway reaches an executor unit: its headless Service's DNS name, all pods behind it.

    Without a namespace the short name is used, which the pod's DNS search path resolves in
    whatever namespace the manifests are applied to.
    """
    port = unit.ports["grpc"]
    host = f"{unit.name}.{namespace}.svc.{cluster_domain}" if namespace else unit.name
    return f"dns:///{host}:{port}"


def _deployment_plan(
    plan: FlowPlan, namespace: str | None, cluster_domain: str, project_root: str | Path
) -> DeploymentPlan:
    if namespace is not None and not _NAMESPACE_NAME.match(namespace):
        raise ConfigurationError(
            f"{namespace!r} is not a valid Kubernetes namespace (lowercase letters, digits and '-', at most 63)"
        )
    return deployment_plan(
        plan,
        address_of=lambda unit: kubernetes_address(unit, namespace, cluster_domain),
        project_root=project_root,
    )


def kubernetes_manifests(
    plan: FlowPlan,
    *,
    namespace: str | None = None,
    image: str = DEFAULT_IMAGE,
    cluster_domain: str = "cluster.local",
    project_root: str | Path | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """File name -> the Kubernetes objects it holds, in the order `kubectl apply` should meet them.

    `project_root` (default: the working directory) is the folder the image holds at its working
    directory; `uses`/`py_modules` paths are written relative to it.
    """
    root = Path.cwd() if project_root is None else Path(project_root)
    deployment = _deployment_plan(plan, namespace, cluster_domain, root)
    files: dict[str, list[dict[str, Any]]] = {}
    if namespace:
        files["00-namespace.yml"] = [namespace_object(namespace)]
    for unit in deployment.executors:
        files[f"{unit.name}.yml"] = executor_objects(unit, image, namespace)
    files[f"{deployment.gateway.name}.yml"] = gateway_objects(deployment, image, namespace)
    return files


def kustomization(files: Iterable[str], namespace: str | None) -> dict[str, Any]:
    """The kustomization listing every manifest file, so `kubectl apply -k DIR` applies them all."""
    document: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),
    }
    if namespace:
        document["namespace"] = namespace
    return document


class _ManifestDumper(yaml.SafeDumper):
    """Plain YAML for people to read: no `&id001` anchors, multi-line strings (the topology) as `|` blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ManifestDumper.add_representer(str, _str_representer)


def dump_yaml(objects: list[dict[str, Any]]) -> str:
    """Objects as one multi-document YAML text (see `_ManifestDumper`)."""
    return yaml.dump_all(objects, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False, width=120)


def dump_manifests(objects: list[dict[str, Any]]) -> str:
    """Objects as one multi-document YAML text, with the resource placeholder comment on each `resources:`."""
    text = dump_yaml(objects)
    return re.sub(r"^(\s*)resources:$", rf"\1resources:  # {RESOURCE_PLACEHOLDER}", text, flags=re.MULTILINE)


def write_kubernetes(
    plan: FlowPlan,
    output_dir: str | os.PathLike[str],
    namespace: str | None = None,
    image: str = DEFAULT_IMAGE,
    *,
    cluster_domain: str = "cluster.local",
    project_root: str | Path | None = None,
) -> list[Path]:
    """Write the manifests and `kustomization.yaml` into `output_dir` (created if missing); the paths written."""
    files = kubernetes_manifests(
        plan, namespace=namespace, image=image, cluster_domain=cluster_domain, project_root=project_root
    )
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, objects in files.items():
        path = folder / name
        path.write_text(dump_manifests(objects))
        written.append(path)
    path = folder / KUSTOMIZATION
    path.write_text(yaml.safe_dump(kustomization(files, namespace), sort_keys=False))
    written.append(path)
    return written
