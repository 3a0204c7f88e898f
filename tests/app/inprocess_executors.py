"""In-process stand-ins for executors, for the streamer's unit tests (no gRPC, no processes).

`FakeExecutor` behaves like a worker as the contract describes it: decodes the documents only when
it has a function to run on them, applies it, appends its route, and reports its errors in the
status. It records what it received so tests can assert on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from flowql.app.inprocess_transport import InProcessTransport
from flowql.app.transport import ExecutorTransport
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document, DocumentArray
from flowql.proto.flowql_pb2 import DataRequest, EndpointInfo, EndpointsInfo
from flowql.request import add_route, get_parameters, set_error, set_parameters
from flowql.topology import ExecutorNode, Topology

DocsFunction = Callable[[DocumentArray], DocumentArray | None]


class FakeExecutor:
    """One in-process executor shard/replica."""

    def __init__(
        self,
        name: str,
        on_docs: DocsFunction | None = None,
        *,
        shard: int = 0,
        fail_with: BaseException | None = None,
        results: dict[str, Any] | None = None,
        gate: asyncio.Event | None = None,
        streaming: dict[str, Callable[[Document], Sequence[Document]]] | None = None,
        endpoints: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.on_docs = on_docs
        self.shard = shard
        self.fail_with = fail_with
        self.results = results
        self.gate = gate
        self.streaming = streaming or {}
        self.endpoints = list(endpoints)
        self.received: list[DataRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def process(self, request: DataRequest) -> DataRequest:
        start = time.time_ns()
        seen = DataRequest()
        seen.CopyFrom(request)
        self.received.append(seen)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.fail_with is not None:
                set_error(request, self.name, self.fail_with)
            elif self.on_docs is not None:
                docs = DocumentArray(decode_docs(request.docs, Document))
                returned = self.on_docs(docs)
                request.docs = encode_docs(returned if returned is not None else docs)
            if self.results is not None:
                parameters = get_parameters(request)
                parameters.setdefault("__results__", {})[self.key] = self.results
                set_parameters(request, parameters)
            add_route(request, self.name, start, shard=self.shard)
            return request
        finally:
            self.in_flight -= 1

    @property
    def key(self) -> str:
        return self.name if not self.shard else f"{self.name}/{self.shard}"

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        produce = self.streaming[request.header.exec_endpoint]
        index = 0
        for doc in decode_docs(request.docs, Document):
            for item in produce(doc):
                response = DataRequest()
                response.header.CopyFrom(request.header)
                response.docs = encode_docs([item])
                response.stream_index = index
                index += 1
                yield response

    def info(self) -> EndpointsInfo:
        endpoints = [EndpointInfo(endpoint=e, input_schema_name="Document") for e in self.endpoints]
        endpoints += [EndpointInfo(endpoint=e, streaming=True) for e in self.streaming]
        return EndpointsInfo(executor=self.name, endpoints=endpoints)

    def transport(self) -> InProcessTransport:
        return InProcessTransport(
            self.name,
            self.process,
            stream_function=self.stream if self.streaming else None,
            endpoints_info=self.info(),
        )


def factory_for(*executors: FakeExecutor) -> Callable[[str, int, Sequence[str]], ExecutorTransport]:
    """A transport factory serving each (name, shard) from the matching FakeExecutor."""
    by_key = {(executor.name, executor.shard): executor for executor in executors}

    def make(name: str, shard: int, addresses: Sequence[str]) -> ExecutorTransport:
        return by_key[(name, shard)].transport()

    return make


def node(name: str, needs: Sequence[str] = ("gateway",), *, shards: int = 1, **options: Any) -> ExecutorNode:
    return ExecutorNode(
        name=name,
        needs=list(needs),
        shards=[[f"in-process-{name}-{i}"] for i in range(shards)],
        **options,
    )


def chain(*names: str) -> Topology:
    nodes = [node(name, [previous]) for previous, name in zip(("gateway", *names), names, strict=False)]
    return Topology(nodes=nodes, end=[names[-1]])


def texts(request: DataRequest) -> list[str | None]:
    return [doc.text for doc in decode_docs(request.docs, Document)]


def docs_of(request: DataRequest) -> DocumentArray:
    return DocumentArray(decode_docs(request.docs, Document))
