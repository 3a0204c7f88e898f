"""`GrpcTransport` against real grpc.aio servers on 127.0.0.1:0 (`flowql.app.grpc_transport`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import pytest

from flowql import Document
from flowql._exceptions import RequestTimeout, ServiceUnavailable, TransportError
from flowql.app.grpc_transport import GrpcTransport, grpc_compression
from flowql.executors.worker import ExecutorWorker
from flowql.proto import flowql_pb2_grpc
from flowql.proto.flowql_pb2 import DataRequest

from .gateway_executors import Probe, Upper, Words
from .grpc_gateway_harness import request_of


class Refusing(flowql_pb2_grpc.ExecutorServiceServicer):
    """Aborts every Process call with one status code, counting the calls."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self.code = code
        self.calls = 0

    async def Process(self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]) -> None:
        self.calls += 1
        await context.abort(self.code, "refused on purpose")


@pytest.fixture
async def refusing_server() -> AsyncIterator[Callable[[grpc.StatusCode], asyncio.Future[tuple[str, Refusing]]]]:
    servers: list[grpc.aio.Server] = []

    async def start(code: grpc.StatusCode) -> tuple[str, Refusing]:
        server = grpc.aio.server()
        servicer = Refusing(code)
        flowql_pb2_grpc.add_ExecutorServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", servicer

    yield start  # type: ignore[misc]
    for server in servers:
        await server.stop(None)


async def test_requests_go_round_robin_over_replicas() -> None:
    async with (
        ExecutorWorker(Probe(), name="p", replica_id=0) as first,
        ExecutorWorker(Probe(), name="p", replica_id=1) as second,
    ):
        transport = GrpcTransport("p", [first.address, second.address])
        try:
            responses = [await transport.send(request_of(Document())) for _ in range(4)]
        finally:
            await transport.aclose()
    assert [r.routes[-1].replica for r in responses] == [0, 1, 0, 1]


async def test_unavailable_replica_is_retried_on_another(free_port: Callable[[], int]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    async with ExecutorWorker(Upper(), name="u") as live:
        transport = GrpcTransport("u", [dead, live.address], retries=1, backoff_s=0.001)
        try:
            responses = [await transport.send(request_of(Document(text="a"))) for _ in range(3)]
        finally:
            await transport.aclose()
    assert all(r.routes[-1].address == live.address for r in responses)


async def test_unavailable_without_retries_left_names_executor_and_address(free_port: Callable[[], int]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    transport = GrpcTransport("enc", [dead], retries=0)
    try:
        with pytest.raises(ServiceUnavailable, match=f"executor 'enc' is unavailable at {dead}"):
            await transport.send(request_of(Document()))
    finally:
        await transport.aclose()


async def test_other_errors_are_not_retried(refusing_server) -> None:
    first, servicer_a = await refusing_server(grpc.StatusCode.INTERNAL)
    second, servicer_b = await refusing_server(grpc.StatusCode.INTERNAL)
    transport = GrpcTransport("x", [first, second], retries=3)
    try:
        with pytest.raises(TransportError, match="executor 'x' failed internally at .*refused on purpose"):
            await transport.send(request_of(Document()))
    finally:
        await transport.aclose()
    assert servicer_a.calls + servicer_b.calls == 1


async def test_timeout_send_bounds_the_call() -> None:
    probe = Probe()
    probe.gate = asyncio.Event()
    async with ExecutorWorker(probe, name="slow") as worker:
        transport = GrpcTransport("slow", [worker.address], timeout_send_ms=100)
        try:
            with pytest.raises(RequestTimeout, match="executor 'slow' did not answer in time"):
                await transport.send(request_of(Document()))
        finally:
            probe.gate.set()
            await transport.aclose()


async def test_gzip_compressed_calls_work() -> None:
    async with ExecutorWorker(Upper(), name="u") as worker:
        transport = GrpcTransport("u", [worker.address], compression="Gzip")
        try:
            response = await transport.send(request_of(Document(text="zip")))
        finally:
            await transport.aclose()
    assert response.status.code == 0
    assert grpc_compression("deflate") == grpc.Compression.Deflate
    with pytest.raises(ValueError, match="unknown compression"):
        grpc_compression("brotli")


async def test_stream_yields_each_response() -> None:
    async with ExecutorWorker(Words(), name="w") as worker:
        transport = GrpcTransport("w", [worker.address])
        try:
            responses = [r async for r in transport.stream(request_of(Document(text="x y"), endpoint="/words"))]
        finally:
            await transport.aclose()
    assert [r.stream_index for r in responses] == [0, 1]


async def test_health_and_endpoints_per_replica(free_port: Callable[[], int]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    async with ExecutorWorker(Words(), name="w") as worker:
        transport = GrpcTransport("w", [dead, worker.address])
        try:
            health = await transport.health()
            info = await transport.endpoints()
        finally:
            await transport.aclose()
    assert health == {dead: False, worker.address: True}
    assert [e.endpoint for e in info.endpoints] == ["/words"]
