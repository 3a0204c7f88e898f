"""The client against the real thing: a `flowql executor` process behind a `flowql gateway` process."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from flowql import AsyncClient, Client, Document, ExecutorError, GraphQLResponseError
from flowql.topology import ExecutorNode, Topology
from tests.client.conftest import as_docs
from tests.conftest import REPO_ROOT


def start(argv: list[str], ready_prefix: str, deadline_s: float = 30) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m flowql <argv>` and return it with its ready line (bounded wait; fails fast if it dies)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowql", *argv],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        readable, _, _ = select.select([process.stdout], [], [], 0.5)
        if readable:
            line = process.stdout.readline()
            if line.startswith(ready_prefix):
                return process, line.strip()
            if not line and process.poll() is not None:
                break
    if process.poll() is None:
        process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    stop(process)
    raise AssertionError(f"{argv[0]} did not start: {stderr[-2000:]}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@dataclass
class Gateway:
    grpc: int
    http: int
    websocket: int


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    executor, line = start(
        ["executor", "--name", "upper", "--uses", "tests.client.client_executors:Upper", "--port", "0"],
        "flowql executor upper serving on ",
    )
    try:
        address = line.rsplit(" ", 1)[-1]
        topology = Topology(nodes=[ExecutorNode(name="upper", needs=["gateway"], shards=[[address]])], end=["upper"])
        path = tmp_path_factory.mktemp("topology") / "topology.json"
        topology.save(path)
        argv = ["gateway", "--topology", str(path), "--host", "127.0.0.1"]
        argv += ["--protocol", "grpc", "http", "websocket", "--port", "0", "0", "0"]
        process, ready = start(argv, "flowql gateway ")
        try:
            urls = ready.split(" serving on ", 1)[1].split()
            ports = [int(url.rsplit(":", 1)[1]) for url in urls]
            yield Gateway(*ports)
        finally:
            stop(process)
    finally:
        stop(executor)


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
def test_post_through_a_real_gateway_and_executor(gateway: Gateway, protocol: str) -> None:
    port = getattr(gateway, protocol)
    with Client(port=port, protocol=protocol) as client:
        assert client.dry_run() is True
        assert "/upper" in client.endpoints()
        result = client.post("/upper", (Document(text=f"t{i}") for i in range(25)), request_size=10)
        assert sorted(str(t) for t in as_docs(result).texts) == sorted(f"T{i}" for i in range(25))
        [response] = client.post("/upper", Document(text="x"), parameters={"k": 3}, return_responses=True) or []
        assert response.parameters["__results__"]["upper"]["parameters"] == {"k": 3}
        assert [route.executor for route in response.routes][-1] == "upper"
        with pytest.raises(ExecutorError, match="upper") as caught:
            client.post("/fail", Document(text="x"))
        assert caught.value.exception_type == "ValueError"
        assert as_docs(client.post("/upper", Document(text="after"))).texts == ["AFTER"]


async def test_async_client_and_graphql_through_the_real_gateway(gateway: Gateway) -> None:
    async with AsyncClient(port=gateway.grpc) as client:
        texts = [
            t
            async for r in client.post("/upper", [Document(text="a"), Document(text="b")], request_size=1)
            for t in r.docs.texts
        ]
    assert sorted(str(t) for t in texts) == ["A", "B"]
    async with AsyncClient(host=f"http://127.0.0.1:{gateway.http}") as http_client:
        body = await http_client.mutate('mutation { docs(data: [{text: "abc"}], execEndpoint: "/upper") { id text } }')
        assert body["data"]["docs"][0]["text"] == "ABC"
        with pytest.raises(GraphQLResponseError):
            await http_client.mutate('mutation { docs(data: [{text: "abc"}], execEndpoint: "/fail") { id text } }')
