"""ExecutorService.ProcessMany: requests pipelined on one stream, answered as Process answers them."""

from __future__ import annotations

import asyncio
import time

import grpc

from flowql import Document
from flowql.codec import decode_docs
from flowql.executors.worker import ExecutorWorker
from flowql.proto.flowql_pb2 import DataRequest
from tests.executors.grpc_helpers import RPC_TIMEOUT_S, request_for, stub
from tests.executors.sample_executors import Mixed


async def _read_all(call: grpc.aio.StreamStreamCall[DataRequest, DataRequest], count: int) -> list[DataRequest]:
    replies: list[DataRequest] = []
    async with asyncio.timeout(RPC_TIMEOUT_S):
        for _ in range(count):
            reply = await call.read()
            assert isinstance(reply, DataRequest)
            replies.append(reply)
    return replies


async def test_each_request_of_the_stream_is_answered_with_its_request_id() -> None:
    async with ExecutorWorker(Mixed(), name="mixed") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        call = stub(channel).ProcessMany()
        sent = [request_for("/async", [Document(text=f"doc {i}")]) for i in range(5)]
        for request in sent:
            await call.write(request)
        replies = await _read_all(call, len(sent))
        await call.done_writing()
        assert sorted(reply.header.request_id for reply in replies) == sorted(r.header.request_id for r in sent)
        by_id = {reply.header.request_id: reply for reply in replies}
        for request in sent:
            reply = by_id[request.header.request_id]
            assert [route.executor for route in reply.routes] == ["mixed"]
            assert len(decode_docs(reply.docs, Document)) == 1
        async with asyncio.timeout(RPC_TIMEOUT_S):
            assert await call.read() is grpc.aio.EOF  # type: ignore[attr-defined]


async def test_stopping_the_worker_ends_an_open_stream_without_waiting_for_the_grace_period() -> None:
    worker = ExecutorWorker(Mixed(), name="mixed")
    await worker.start()
    async with grpc.aio.insecure_channel(worker.address) as channel:
        call = stub(channel).ProcessMany()
        await call.write(request_for("/async", [Document(text="x")]))
        assert len(await _read_all(call, 1)) == 1
        began = time.monotonic()
        await worker.stop(grace=10)
        assert time.monotonic() - began < 5
        async with asyncio.timeout(RPC_TIMEOUT_S):
            assert await call.read() is grpc.aio.EOF  # type: ignore[attr-defined]
