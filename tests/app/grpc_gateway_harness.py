"""Real executor workers (in-process `ExecutorWorker`s on 127.0.0.1:0) behind a real `GatewayServer`,
reached over a real gRPC channel: everything on the test's event loop."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc

from flowql import Document
from flowql.app.grpc_transport import GrpcTransport
from flowql.app.server import GatewayServer
from flowql.app.settings import GatewaySettings
from flowql.codec import encode_docs
from flowql.executors import Executor
from flowql.executors.worker import ExecutorWorker
from flowql.proto.flowql_pb2 import DataRequest
from flowql.proto.flowql_pb2_grpc import (
    ExecutorServiceServicer,
    GatewayServiceStub,
    add_ExecutorServiceServicer_to_server,
)
from flowql.request import new_request
from flowql.topology import ExecutorNode, Topology

RPC_TIMEOUT_S = 20.0


class GatewayHarness:
    """Starts workers and a gateway; `aclose()` stops the gateway first, then the workers."""

    def __init__(self) -> None:
        self.stack = contextlib.AsyncExitStack()
        self.workers: dict[str, list[list[ExecutorWorker]]] = {}
        self.server: GatewayServer | None = None
        self.stub: GatewayServiceStub | None = None

    async def executor(
        self,
        name: str,
        make: Callable[[], Executor],
        *,
        needs: Sequence[str] = ("gateway",),
        shards: int = 1,
        replicas: int = 1,
        **options: Any,
    ) -> ExecutorNode:
        rows: list[list[ExecutorWorker]] = []
        for shard in range(shards):
            row = []
            for replica in range(replicas):
                worker = ExecutorWorker(
                    make(), name=name, shard_id=shard, shards=shards, replica_id=replica, replicas=replicas
                )
                await self.stack.enter_async_context(worker)
                row.append(worker)
            rows.append(row)
        self.workers[name] = rows
        return ExecutorNode(name=name, needs=list(needs), shards=[[w.address for w in row] for row in rows], **options)

    def worker(self, name: str, shard: int = 0, replica: int = 0) -> ExecutorWorker:
        return self.workers[name][shard][replica]

    async def gateway(self, nodes: Sequence[ExecutorNode], end: Sequence[str], **settings: Any) -> GatewayServiceStub:
        config = GatewaySettings(host="127.0.0.1", protocols=["grpc"], ports=[0], **settings)
        server = GatewayServer(config, Topology(nodes=list(nodes), end=list(end)))
        urls = await server.start()
        self.stack.push_async_callback(server.stop, 1.0)
        self.server = server
        channel = grpc.aio.insecure_channel(urls[0].removeprefix("grpc://"))
        self.stack.push_async_callback(channel.close, None)
        self.stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
        return self.stub

    async def aclose(self) -> None:
        await self.stack.aclose()


def request_of(*docs: Document, endpoint: str = "/", **options: Any) -> DataRequest:
    return new_request(endpoint, docs=encode_docs(list(docs)), **options)


def with_options(node: ExecutorNode, **changes: Any) -> ExecutorNode:
    return dataclasses.replace(node, **changes)


@contextlib.asynccontextmanager
async def transport_to(servicer: ExecutorServiceServicer, executor: str) -> AsyncIterator[GrpcTransport]:
    """A `GrpcTransport` to a hand-written ExecutorService `servicer` served on 127.0.0.1:0; the
    transport and the server are closed on exit."""
    server = grpc.aio.server()
    add_ExecutorServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    transport = GrpcTransport(executor, [f"127.0.0.1:{port}"])
    try:
        yield transport
    finally:
        await transport.aclose()
        await server.stop(None)
