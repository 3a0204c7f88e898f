"""The exported manifests run: every pod as a local process (graph/k8s_loopback.py's mapping), then
documents go through the gateway over GraphQL and gRPC.

What each pod runs is read back from the written YAML files, not from the Flow, so the test proves
what the manifests say: command, args and env as written, only the listen address, the ConfigMap
mount and the Service DNS names mapped to loopback.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowql import Client, Document, DocumentArray
from flowql.graph.child_process import ChildEvent, ChildEventKind, ChildProcess
from flowql.graph.docker_compose import HEALTHCHECK_SCRIPT, HTTP_HEALTHCHECK_SCRIPT
from flowql.graph.k8s_loopback import PodCommand, loopback_topology, pod_commands, read_manifests, service_backends
from flowql.graph.kubernetes import write_kubernetes
from tests.graph.test_kubernetes import REPO_ROOT, sample_flow

_START_TIMEOUT_S = 40.0


@dataclass
class LoopbackCluster:
    """The running pods and the gateway's URLs (`grpc://...`, `http://...`)."""

    pods: dict[tuple[str, int], ChildProcess]
    gateway_urls: dict[str, str]
    pod_addresses: dict[tuple[str, int], str]


def _ready_prefix(pod: PodCommand) -> str:
    name = next(arg.split("=", 1)[1] for arg in pod.argv if arg.startswith("--name="))
    return f"flowql {pod.role} {name} "


def _start(pod: PodCommand, events: queue.Queue[ChildEvent]) -> ChildProcess:
    prefix = _ready_prefix(pod) if any(a.startswith("--name=") for a in pod.argv) else f"flowql {pod.role} gateway "
    # The node's environment (this venv), the image's `ENV PYTHONPATH=/app` (the project, here the
    # repository), then the container's own env from the manifest.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **pod.env}
    child = ChildProcess(
        f"{pod.deployment}/{pod.replica}",
        pod.argv,
        env=env,
        ready_prefix=prefix + "serving on ",
        failure_prefix=prefix + "failed: ",
        events=events,
        timeout=_START_TIMEOUT_S,
    )
    child.start()
    return child


def _await_ready(children: list[ChildProcess], events: queue.Queue[ChildEvent]) -> None:
    pending = set(children)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"pods not ready after {_START_TIMEOUT_S} s: {sorted(c.name for c in pending)}")
        try:
            event = events.get(timeout=min(0.5, remaining))
        except queue.Empty:
            continue
        if event.kind is ChildEventKind.READY:
            pending.discard(event.child)
        elif event.child in pending:
            pytest.fail(f"pod {event.child.name} failed to start: {event.child.failure_reason()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    folder = tmp_path_factory.mktemp("k8s")
    write_kubernetes(sample_flow().plan, folder / "manifests", namespace="search", project_root=REPO_ROOT)
    objects = read_manifests(folder / "manifests")
    pods = pod_commands(
        objects,
        flowql_command=[sys.executable, "-m", "flowql"],
        python_command=[sys.executable],
        mount_root=folder / "mounts",
    )
    events: queue.Queue[ChildEvent] = queue.Queue()
    running: dict[tuple[str, int], ChildProcess] = {}
    try:
        executors = [pod for pod in pods if pod.role == "executor"]
        for pod in executors:
            running[(pod.deployment, pod.replica)] = _start(pod, events)
        _await_ready(list(running.values()), events)
        addresses = {key: child.ready_line.rsplit(" ", 1)[1] for key, child in running.items() if child.ready_line}
        backends = service_backends(objects, addresses)
        (gateway,) = [pod for pod in pods if pod.role == "gateway"]
        for local, files in gateway.mounts.items():
            Path(local).mkdir(parents=True)
            for name, content in files.items():
                text = loopback_topology(content, backends) if name == "topology.json" else content
                (Path(local) / name).write_text(text)
        for init in gateway.init:
            # The init container waits until every executor serves; they all do by now, so it returns at once.
            done = subprocess.run(init, env={**os.environ, **gateway.env}, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "every executor serves" in done.stdout
        child = _start(gateway, events)
        running[(gateway.deployment, gateway.replica)] = child
        _await_ready([child], events)
        assert child.ready_line is not None
        urls = child.ready_line.split(" serving on ", 1)[1].split()
        yield LoopbackCluster(running, {url.split("://")[0]: url for url in urls}, addresses)
    finally:
        children = list(running.values())
        for child in reversed(children):
            child.terminate()
        for child in reversed(children):
            child.wait_or_kill(time.monotonic() + 10.0)


def _check_results(docs: list[dict[str, Any]]) -> None:
    assert [doc["text"] for doc in docs] == ["A!", "B!"]
    for doc in docs:
        assert "tag_rep" in doc["tags"]["seen"]
        # Counter on both shards of `index` (polling ALL) set the parameter echo.
        assert doc["tags"]["param"] == 7
    # The `when` condition: only the document with tags.k == 1 reached only_k1.
    assert [("only_k1" in doc["tags"]["seen"]) for doc in docs] == [True, False]


def test_simulated_cluster_answers_graphql(cluster: LoopbackCluster) -> None:
    query = (
        'mutation { docs(data: [{text: "a", tags: {k: 1}}, {text: "b", tags: {k: 2}}], '
        'execEndpoint: "/", parameters: {value: 7}) { id text tags } }'
    )
    response = httpx.post(f"{cluster.gateway_urls['http']}/graphql", json={"query": query}, timeout=20.0)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    _check_results(body["data"]["docs"])


def test_simulated_cluster_answers_grpc(cluster: LoopbackCluster) -> None:
    url = cluster.gateway_urls["grpc"]
    client = Client(host=url)
    try:
        responses = client.post(
            "/",
            [Document(text="a", tags={"k": 1}), Document(text="b", tags={"k": 2})],
            parameters={"value": 7},
            return_responses=True,
        )
    finally:
        client.close()
    assert responses is not None
    (response,) = responses
    docs = [{"text": doc.text, "tags": doc.tags} for doc in response.docs]
    _check_results(docs)
    # Both shards of the polling-ALL executor answered: each stored its result under `index/<shard>`.
    results = response.parameters["__results__"]
    assert {"index/0", "index/1"} <= set(results)


def test_headless_service_spreads_requests_over_replicas(cluster: LoopbackCluster) -> None:
    client = Client(host=cluster.gateway_urls["grpc"])
    pids: set[int] = set()
    try:
        for _ in range(20):
            docs = client.post("/", [Document(text="x")])
            assert isinstance(docs, DocumentArray)
            pids.update(doc.tags["pid_tag_rep"] for doc in docs)
    finally:
        client.close()
    assert len(pids) == 2


def test_compose_healthchecks_pass_on_the_running_gateway_and_executor(cluster: LoopbackCluster) -> None:
    grpc_port = cluster.gateway_urls["grpc"].rsplit(":", 1)[1]
    http_port = cluster.gateway_urls["http"].rsplit(":", 1)[1]
    executor_port = cluster.pod_addresses[("upper", 0)].rsplit(":", 1)[1]
    for script, port in (
        (HEALTHCHECK_SCRIPT, grpc_port),
        (HTTP_HEALTHCHECK_SCRIPT, http_port),
        (HEALTHCHECK_SCRIPT, executor_port),
    ):
        result = subprocess.run([sys.executable, "-c", script, port], capture_output=True, text=True, timeout=20)
        assert result.returncode == 0, result.stderr
