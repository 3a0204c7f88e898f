"""`GrpcTransport` over `ProcessMany` pipes (`flowql.app.grpc_pipe`): real workers on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from flowql import Document
from flowql.app.grpc_transport import GrpcTransport
from flowql.codec import decode_docs
from flowql.executors.worker import ExecutorWorker
from flowql.proto import flowql_pb2_grpc
from flowql.proto.flowql_pb2 import DataRequest

from .gateway_executors import Probe
from .grpc_gateway_harness import request_of, transport_to


class UnaryOnly(flowql_pb2_grpc.ExecutorServiceServicer):
    """An executor of an older build: Process only (ProcessMany is UNIMPLEMENTED)."""

    def __init__(self) -> None:
        self.calls = 0

    async def Process(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> DataRequest:
        self.calls += 1
        return request


class Counting(flowql_pb2_grpc.ExecutorServiceServicer):
    """Echoes requests, counting unary calls and ProcessMany streams."""

    def __init__(self) -> None:
        self.unary = 0
        self.streams = 0

    async def Process(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> DataRequest:
        self.unary += 1
        return request

    async def ProcessMany(
        self,
        request_iterator: AsyncIterator[DataRequest],
        context: grpc.aio.ServicerContext[DataRequest, DataRequest],
    ) -> AsyncIterator[DataRequest]:
        self.streams += 1
        async for request in request_iterator:
            yield request


async def test_requests_share_one_stream_and_those_with_a_deadline_go_unary() -> None:
    servicer = Counting()
    async with transport_to(servicer, "c") as transport:
        requests = [request_of(Document(text=f"d{i}")) for i in range(20)]
        responses = await asyncio.gather(*(transport.send(request) for request in requests))
        assert [r.header.request_id for r in responses] == [r.header.request_id for r in requests]
        assert (servicer.streams, servicer.unary) == (1, 0)
        await transport.send(request_of(Document(), timeout=5.0))
        assert (servicer.streams, servicer.unary) == (1, 1)


async def test_concurrent_requests_to_a_worker_each_get_their_own_answer() -> None:
    probe = Probe()
    async with ExecutorWorker(probe, name="p") as worker:
        transport = GrpcTransport("p", [worker.address])
        try:
            requests = [request_of(Document(text=f"d{i}")) for i in range(20)]
            responses = await asyncio.gather(*(transport.send(request) for request in requests))
        finally:
            await transport.aclose()
    assert [r.header.request_id for r in responses] == [r.header.request_id for r in requests]
    assert [decode_docs(r.docs, Document)[0].text for r in responses] == [f"d{i}" for i in range(20)]
    assert all(decode_docs(r.docs, Document)[0].tags["probed"] for r in responses)
    assert probe.calls == 20


async def test_an_executor_without_process_many_is_called_unary() -> None:
    servicer = UnaryOnly()
    async with transport_to(servicer, "old") as transport:
        for _ in range(3):
            response = await transport.send(request_of(Document(text="x")))
            assert decode_docs(response.docs, Document)[0].text == "x"
    assert servicer.calls == 3


async def test_a_replica_that_stops_mid_stream_leaves_later_requests_to_the_other_one() -> None:
    first, second = Probe(), Probe()
    async with (
        ExecutorWorker(first, name="p", replica_id=0) as one,
        ExecutorWorker(second, name="p", replica_id=1) as two,
    ):
        transport = GrpcTransport("p", [one.address, two.address], retries=3)
        try:
            for _ in range(4):
                await transport.send(request_of(Document()))
            await one.stop(grace=1)
            for _ in range(6):
                response = await transport.send(request_of(Document(text="after")))
                assert decode_docs(response.docs, Document)[0].text == "after"
        finally:
            await transport.aclose()
    assert first.calls == 2
    assert second.calls == 2 + 6
