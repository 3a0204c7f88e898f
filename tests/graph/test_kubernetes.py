"""Kubernetes export: the manifests' shape, and that every object validates against the Kubernetes schemas."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from flowql import ConfigurationError, Executor, Flow
from flowql.executors.worker import ExecutorWorker
from flowql.graph.k8s_loopback import pod_commands, read_manifests
from flowql.graph.k8s_manifests import RESOURCE_PLACEHOLDER
from flowql.graph.k8s_scripts import WAIT_FOR_EXECUTORS_SCRIPT
from flowql.graph.kubernetes import KUBERNETES_VERSION, kubernetes_manifests, write_kubernetes
from flowql.topology import ExecutorNode, Topology

REPO_ROOT = Path(__file__).resolve().parents[2]
# The oldest version the manifests are for (grpc probes are GA there) and the newest the package ships.
VALIDATED_VERSIONS = [f"{KUBERNETES_VERSION}.0", kubernetes_validate.utils.latest_version()]


def sample_flow() -> Flow:
    """The issue's Flow: a chain, a replicated executor, a sharded one with polling ALL, a `when` condition."""
    return (
        Flow(protocol=["http", "grpc"], env={"FLOWQL_LOG_LEVEL": "INFO"})
        .add(name="upper", uses="tests.graph.sample_executors:Upper", uses_with={"suffix": "!"}, env={"MODE": "k8s"})
        .add(name="tag_rep", uses="tests.graph.sample_executors:Tagger", replicas=2)
        .add(name="index", uses="tests.graph.sample_executors:Counter", shards=2, polling="ALL")
        .add(name="only_k1", uses="tests.graph.sample_executors:Tagger", when={"tags__k": {"$eq": 1}})
    )


def _objects(files: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [obj for objects in files.values() for obj in objects]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("version", VALIDATED_VERSIONS)
@pytest.mark.parametrize("namespace", [None, "search"])
def test_every_manifest_validates_against_the_kubernetes_schemas(
    tmp_path: Path, version: str, namespace: str | None
) -> None:
    written = write_kubernetes(sample_flow().plan, tmp_path, namespace=namespace, project_root=REPO_ROOT)
    checked = 0
    for path in written:
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            # strict: unknown fields are errors too, as `kubectl apply --validate=strict` has them.
            kubernetes_validate.validate(document, version, strict=True)
            checked += 1
    # 5 executor shards x (Deployment + Service) + ConfigMap, Deployment, Service of the gateway (+ Namespace).
    assert checked == 13 + (1 if namespace else 0)


def test_kustomization_lists_every_manifest_file(tmp_path: Path) -> None:
    written = write_kubernetes(sample_flow().plan, tmp_path, namespace="search", project_root=REPO_ROOT)
    kustomization = yaml.safe_load((tmp_path / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == "search"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in written if p.name != "kustomization.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_one_deployment_and_headless_service_per_shard_with_the_replicas_given() -> None:
    objects = _objects(kubernetes_manifests(sample_flow().plan, project_root=REPO_ROOT))
    deployments, services = _by_kind(objects, "Deployment"), _by_kind(objects, "Service")
    executors = ["upper", "tag-rep", "index-shard-0", "index-shard-1", "only-k1"]
    assert sorted(deployments) == sorted([*executors, "gateway"])
    assert {name: deployments[name]["spec"]["replicas"] for name in executors} == {
        "upper": 1,
        "tag-rep": 2,
        "index-shard-0": 1,
        "index-shard-1": 1,
        "only-k1": 1,
    }
    for name in executors:
        assert services[name]["spec"]["clusterIP"] == "None"
        assert (
            services[name]["spec"]["selector"].items()
            <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()
        )
    assert services["gateway"]["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["port"]) for p in services["gateway"]["spec"]["ports"]] == [("http", 8080), ("grpc", 8081)]


def test_executor_containers_run_the_worker_with_its_settings_and_env() -> None:
    objects = _objects(kubernetes_manifests(sample_flow().plan, project_root=REPO_ROOT))
    deployments = _by_kind(objects, "Deployment")
    upper = _container(deployments["upper"])
    assert upper["command"] == ["flowql"]
    assert upper["args"][0] == "executor"
    assert "--uses=tests.graph.sample_executors:Upper" in upper["args"]
    assert '--uses-with={"suffix": "!"}' in upper["args"]
    assert {"--host=0.0.0.0", "--port=8081"} <= set(upper["args"])
    assert upper["env"] == [{"name": "FLOWQL_LOG_LEVEL", "value": "INFO"}, {"name": "MODE", "value": "k8s"}]
    shard1 = _container(deployments["index-shard-1"])["args"]
    assert {"--shard-id=1", "--shards=2"} <= set(shard1)


def test_probes_use_the_grpc_health_service_and_resources_are_placeholders(tmp_path: Path) -> None:
    write_kubernetes(sample_flow().plan, tmp_path, project_root=REPO_ROOT)
    text = (tmp_path / "tag-rep.yml").read_text()
    container = _container(next(yaml.safe_load_all(text)))
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["grpc"] == {"port": 8081}
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}}
    assert f"resources:  # {RESOURCE_PLACEHOLDER}" in text


def test_gateway_reads_the_topology_from_a_configmap_with_service_dns_names() -> None:
    objects = _objects(kubernetes_manifests(sample_flow().plan, namespace="search", project_root=REPO_ROOT))
    config_map = _by_kind(objects, "ConfigMap")["gateway-topology"]
    topology = Topology.from_json(config_map["data"]["topology.json"])
    assert topology.node("index").shards == [
        ["dns:///index-shard-0.search.svc.cluster.local:8081"],
        ["dns:///index-shard-1.search.svc.cluster.local:8081"],
    ]
    assert topology.node("index").polling == {"*": "ALL"}
    assert topology.node("only_k1").when == {"tags__k": {"$eq": 1}}
    assert topology.end == ["only_k1"]
    gateway = _by_kind(objects, "Deployment")["gateway"]
    container = _container(gateway)
    assert "--topology=/etc/flowql/topology.json" in container["args"]
    assert container["volumeMounts"] == [{"name": "topology", "mountPath": "/etc/flowql", "readOnly": True}]
    volumes = gateway["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "topology", "configMap": {"name": "gateway-topology"}}]


def test_without_a_namespace_addresses_are_short_service_names() -> None:
    objects = _objects(kubernetes_manifests(sample_flow().plan, project_root=REPO_ROOT))
    data = json.loads(_by_kind(objects, "ConfigMap")["gateway-topology"]["data"]["topology.json"])
    assert data["nodes"][0]["shards"] == [["dns:///upper:8081"]]
    assert all("namespace" not in obj["metadata"] for obj in objects)


def test_gateway_ports_given_to_the_flow_are_kept() -> None:
    flow = Flow(protocol=["grpc", "http"], port=[9000, 9001]).add(name="e", uses="tests.graph.sample_executors:Upper")
    objects = _objects(kubernetes_manifests(flow.plan, project_root=REPO_ROOT))
    container = _container(_by_kind(objects, "Deployment")["gateway"])
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [("grpc", 9000), ("http", 9001)]
    assert container["readinessProbe"]["grpc"] == {"port": 9000}


def test_http_only_gateway_is_probed_over_http() -> None:
    flow = Flow(protocol="http").add(name="e", uses="tests.graph.sample_executors:Upper")
    objects = _objects(kubernetes_manifests(flow.plan, project_root=REPO_ROOT))
    container = _container(_by_kind(objects, "Deployment")["gateway"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/status", "port": 8080}


class ScriptExecutor(Executor):
    """Stands in for a class defined in a user's script."""


def test_a_class_defined_in_main_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScriptExecutor, "__module__", "__main__")
    flow = Flow().add(name="mine", uses=ScriptExecutor)
    with pytest.raises(ConfigurationError, match="Move it into a module of your project"):
        kubernetes_manifests(flow.plan, project_root=REPO_ROOT)


def test_a_class_from_a_module_is_exported_by_reference() -> None:
    from tests.graph.sample_executors import Tagger

    flow = Flow().add(name="t", uses=Tagger)
    objects = _objects(kubernetes_manifests(flow.plan, project_root=REPO_ROOT))
    assert "--uses=tests.graph.sample_executors:Tagger" in _container(_by_kind(objects, "Deployment")["t"])["args"]


def test_py_modules_are_written_relative_to_the_project_root(tmp_path: Path) -> None:
    module = tmp_path / "execs" / "mine.py"
    module.parent.mkdir()
    module.write_text("")
    flow = Flow().add(name="m", uses="Mine", py_modules=[str(module)])
    objects = _objects(kubernetes_manifests(flow.plan, project_root=tmp_path))
    assert "--py-modules=execs/mine.py" in _container(_by_kind(objects, "Deployment")["m"])["args"]
    with pytest.raises(ConfigurationError, match="outside the project folder"):
        kubernetes_manifests(flow.plan, project_root=tmp_path / "execs" / "other")


def test_names_that_collide_as_kubernetes_names_are_refused() -> None:
    flow = Flow().add(name="my_exec", uses="Executor").add(name="my-exec", uses="Executor")
    with pytest.raises(ConfigurationError, match="both become the Kubernetes name 'my-exec'"):
        kubernetes_manifests(flow.plan, project_root=REPO_ROOT)


def test_an_invalid_namespace_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a valid Kubernetes namespace"):
        kubernetes_manifests(sample_flow().plan, namespace="Bad_NS", project_root=REPO_ROOT)


def test_gateway_waits_for_the_executors_in_an_init_container() -> None:
    objects = _objects(kubernetes_manifests(sample_flow().plan, project_root=REPO_ROOT))
    pod = _by_kind(objects, "Deployment")["gateway"]["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["command"] == ["python", "-c", WAIT_FOR_EXECUTORS_SCRIPT, "/etc/flowql/topology.json"]
    assert init["volumeMounts"] == pod["containers"][0]["volumeMounts"]


async def test_wait_script_returns_once_the_executor_serves(tmp_path: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    topology = Topology(nodes=[ExecutorNode(name="e", needs=["gateway"], shards=[[f"127.0.0.1:{port}"]])], end=["e"])
    path = tmp_path / "topology.json"
    topology.save(path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WAIT_FOR_EXECUTORS_SCRIPT, str(path), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        assert first.decode().startswith(f"waiting for executors: 127.0.0.1:{port}")
        async with ExecutorWorker(Executor(), name="e", port=port):
            rest, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0
        assert rest.decode().splitlines()[-1] == "every executor serves"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_external_executors_get_no_deployment_and_keep_their_address() -> None:
    flow = (
        Flow()
        .add(name="remote", host="search.example.internal", port=7000, external=True)
        .add(name="local", uses="tests.graph.sample_executors:Upper")
    )
    objects = _objects(kubernetes_manifests(flow.plan, project_root=REPO_ROOT))
    assert sorted(_by_kind(objects, "Deployment")) == ["gateway", "local"]
    topology = Topology.from_json(_by_kind(objects, "ConfigMap")["gateway-topology"]["data"]["topology.json"])
    assert topology.node("remote").shards == [["search.example.internal:7000"]]
    assert topology.node("remote").external


def test_dollar_signs_survive_the_kubelets_variable_expansion(tmp_path: Path) -> None:
    flow = Flow().add(name="e", uses="tests.graph.sample_executors:Upper", uses_with={"suffix": "$(HOME) $5"})
    write_kubernetes(flow.plan, tmp_path, project_root=REPO_ROOT)
    objects = read_manifests(tmp_path)
    args = _container(_by_kind(objects, "Deployment")["e"])["args"]
    # The kubelet would expand `$(HOME)`; `$$` is its escape for a literal `$`.
    assert '--uses-with={"suffix": "$$(HOME) $$5"}' in args
    (pod,) = [
        p
        for p in pod_commands(objects, flowql_command=["flowql"], python_command=["python"], mount_root=tmp_path)
        if p.role == "executor"
    ]
    assert '--uses-with={"suffix": "$(HOME) $5"}' in pod.argv


def test_a_class_name_known_from_a_module_is_exported_as_module_and_class() -> None:
    from tests.graph.sample_executors import Counter

    flow = (
        Flow()
        .add(name="named", uses=Counter.__name__)
        .add(name="mod", uses="Mine", py_modules=["tests/graph/sample_executors.py"])
    )
    deployments = _by_kind(_objects(kubernetes_manifests(flow.plan, project_root=REPO_ROOT)), "Deployment")
    assert "--uses=tests.graph.sample_executors:Counter" in _container(deployments["named"])["args"]
    # With py_modules the worker finds the name in the modules it imports: the name stays.
    assert "--uses=Mine" in _container(deployments["mod"])["args"]


def test_a_class_name_known_only_from_main_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScriptExecutor, "__module__", "__main__")
    flow = Flow().add(name="mine", uses="ScriptExecutor")
    with pytest.raises(ConfigurationError, match="class ScriptExecutor is defined in '__main__'"):
        kubernetes_manifests(flow.plan, project_root=REPO_ROOT)
