"""`flowql gateway` as a real process in front of real `flowql executor` processes, over real gRPC."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from flowql import Document, DocumentArray
from flowql.app.settings import GatewaySettings
from flowql.codec import decode_docs
from flowql.proto.flowql_pb2 import DataRequest, DryRunRequest, Status
from flowql.proto.flowql_pb2_grpc import GatewayServiceStub
from flowql.topology import ExecutorNode, Topology

from .gateway_processes import FlowqlProcess, start_executor, start_gateway, wait_exit
from .grpc_gateway_harness import RPC_TIMEOUT_S, request_of

EXECUTORS = "tests.app.gateway_executors"


@pytest.fixture
def processes() -> Iterator[list[FlowqlProcess]]:
    started: list[FlowqlProcess] = []
    try:
        yield started
    finally:
        # The gateway (added last) goes first, as a Flow stops it.
        for process in reversed(started):
            process.stop()


def executor(processes: list[FlowqlProcess], tmp_path: Path, name: str, cls: str, **settings: object) -> str:
    process, address = start_executor(name, f"{EXECUTORS}:{cls}", tmp_path, **settings)
    processes.append(process)
    return address


def gateway(
    processes: list[FlowqlProcess], tmp_path: Path, topology: Topology, **settings: object
) -> tuple[FlowqlProcess, list[str]]:
    path = tmp_path / "topology.json"
    topology.save(path)
    config = GatewaySettings(host="127.0.0.1", topology=str(path), **settings)  # type: ignore[arg-type]
    process, urls = start_gateway(config, tmp_path)
    processes.append(process)
    return process, urls


def docs_of(response: DataRequest) -> DocumentArray:
    return DocumentArray(decode_docs(response.docs, Document))


async def test_gateway_process_routes_a_chain_and_stops_on_sigterm(
    processes: list[FlowqlProcess], tmp_path: Path
) -> None:
    upper = executor(processes, tmp_path, "upper", "Upper")
    exclaim = executor(processes, tmp_path, "exclaim", "Exclaim")
    topology = Topology(
        nodes=[
            ExecutorNode(name="upper", needs=["gateway"], shards=[[upper]]),
            ExecutorNode(name="exclaim", needs=["upper"], shards=[[exclaim]]),
        ],
        end=["exclaim"],
    )
    process, urls = gateway(processes, tmp_path, topology, protocols=["grpc"], ports=[0], name="gw")
    assert len(urls) == 1 and urls[0].startswith("grpc://127.0.0.1:")
    async with grpc.aio.insecure_channel(urls[0].removeprefix("grpc://")) as channel:
        stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        response = await stub.Process(request_of(Document(text="hi")), timeout=RPC_TIMEOUT_S)
        assert [doc.text for doc in docs_of(response)] == ["HI!"]
        assert (await stub.DryRun(DryRunRequest(), timeout=RPC_TIMEOUT_S)).status.code == Status.SUCCESS
    process.process.send_signal(signal.SIGTERM)
    assert wait_exit(process) == 0


async def test_gateway_process_merges_the_seeds_fan_out(processes: list[FlowqlProcess], tmp_path: Path) -> None:
    a = executor(processes, tmp_path, "A", "World")
    b = executor(processes, tmp_path, "B", "Hello")
    c = executor(processes, tmp_path, "C", "Joiner")
    topology = Topology(
        nodes=[
            ExecutorNode(name="A", needs=["gateway"], shards=[[a]]),
            ExecutorNode(name="B", needs=["gateway"], shards=[[b]]),
            ExecutorNode(name="C", needs=["A", "B"], shards=[[c]]),
        ],
        end=["C"],
    )
    _, urls = gateway(processes, tmp_path, topology)
    async with grpc.aio.insecure_channel(urls[0].removeprefix("grpc://")) as channel:
        stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        response = await stub.Process(request_of(*(Document() for _ in range(3))), timeout=RPC_TIMEOUT_S)
    docs = docs_of(response)
    assert len(docs) == 3
    assert docs[0].tags["matrix"] == [3, 3] and docs[0].tags["received"] == 3


async def test_killed_replica_process_is_retried_on_the_other(processes: list[FlowqlProcess], tmp_path: Path) -> None:
    first = executor(processes, tmp_path, "upper", "Upper", replica_id=0, replicas=2)
    second = executor(processes, tmp_path, "upper", "Upper", replica_id=1, replicas=2)
    topology = Topology(nodes=[ExecutorNode(name="upper", needs=["gateway"], shards=[[first, second]])], end=["upper"])
    _, urls = gateway(processes, tmp_path, topology)
    async with grpc.aio.insecure_channel(urls[0].removeprefix("grpc://")) as channel:
        stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        before = [await stub.Process(request_of(Document(text="x")), timeout=RPC_TIMEOUT_S) for _ in range(2)]
        assert sorted(r.routes[-1].replica for r in before) == [0, 1]
        processes[0].kill()
        after = [await stub.Process(request_of(Document(text="x")), timeout=RPC_TIMEOUT_S) for _ in range(4)]
    assert all(r.status.code == Status.SUCCESS for r in after), [r.status.description for r in after]
    assert [r.routes[-1].replica for r in after] == [1, 1, 1, 1]


def test_gateway_without_a_readable_topology_fails_with_a_clear_last_line(tmp_path: Path) -> None:
    settings = GatewaySettings(host="127.0.0.1", topology=str(tmp_path / "missing.json"), name="gw")
    process = FlowqlProcess("gateway", settings.to_argv(), tmp_path / "gateway.stderr")
    code = wait_exit(process)
    process.stop()
    assert code == 1
    last = process.stderr().strip().splitlines()[-1]
    assert last.startswith("flowql gateway gw failed: FileNotFoundError:")
    assert "missing.json" in last


def test_gateway_with_bad_arguments_exits_2(tmp_path: Path) -> None:
    process = FlowqlProcess("gateway", ["--protocols", "grpc", "http", "--ports", "0"], tmp_path / "gateway.stderr")
    assert wait_exit(process) == 2
    process.stop()
    assert "need as many ports" in process.stderr()


async def test_gateway_process_serves_http_and_grpc_listeners_in_the_order_given(
    processes: list[FlowqlProcess], tmp_path: Path
) -> None:
    upper = executor(processes, tmp_path, "upper", "Upper")
    topology = Topology(nodes=[ExecutorNode(name="upper", needs=["gateway"], shards=[[upper]])], end=["upper"])
    process, urls = gateway(
        processes, tmp_path, topology, protocols=["http", "grpc", "websocket"], ports=[0, 0, 0], name="gw"
    )
    assert [url.split("://")[0] for url in urls] == ["http", "grpc", "ws"]
    assert len({url.rsplit(":", 1)[1] for url in urls}) == 3
    async with httpx.AsyncClient(base_url=urls[0], timeout=RPC_TIMEOUT_S) as client:
        status = await client.get("/status")
    assert status.status_code == 200
    async with grpc.aio.insecure_channel(urls[1].removeprefix("grpc://")) as channel:
        stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        response = await stub.Process(request_of(Document(text="both")), timeout=RPC_TIMEOUT_S)
    assert [doc.text for doc in docs_of(response)] == ["BOTH"]
    process.process.send_signal(signal.SIGINT)
    assert wait_exit(process) == 0


async def test_gateway_process_reduces_all_polled_shard_processes(
    processes: list[FlowqlProcess], tmp_path: Path
) -> None:
    shard0 = executor(processes, tmp_path, "idx", "ShardSearch", shard_id=0, shards=2)
    shard1 = executor(processes, tmp_path, "idx", "ShardSearch", shard_id=1, shards=2)
    topology = Topology(
        nodes=[ExecutorNode(name="idx", needs=["gateway"], shards=[[shard0], [shard1]], polling={"*": "ALL"})],
        end=["idx"],
    )
    _, urls = gateway(processes, tmp_path, topology)
    async with grpc.aio.insecure_channel(urls[0].removeprefix("grpc://")) as channel:
        stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        response = await stub.Process(request_of(Document(id="q"), endpoint="/search"), timeout=RPC_TIMEOUT_S)
    (query,) = docs_of(response)
    assert [m.id for m in query.matches] == ["s0-0", "s1-0", "s0-1", "s1-1"]
    assert sorted(route.shard for route in response.routes if route.executor == "idx") == [0, 1]
