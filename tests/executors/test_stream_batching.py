"""ProcessStream batching: a caller that sends STREAM_BATCHED_METADATA (the gateway) gets every
document a generator yielded during one write in one message; the first document never waits.
A real in-process ExecutorWorker over a real channel, everything on the test's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc

from flowql import Document, DocumentArray
from flowql.codec import decode_docs
from flowql.executors import Executor, requests
from flowql.executors.servicer import STREAM_BATCHED_METADATA
from flowql.executors.worker import ExecutorWorker
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import error_of
from tests.executors.grpc_helpers import RPC_TIMEOUT_S, process, request_for, stub

MANY = 3000


class Streams(Executor):
    """Fast and gated generators, async and sync, plus a sync unary handler."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.async_gate = asyncio.Event()
        self.sync_gate = threading.Event()
        self.produced = 0
        self.closed = threading.Event()

    @requests(on="/fast")
    async def fast(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        for index in range(int(doc.text or "0")):
            yield Document(text=str(index))

    @requests(on="/fast-sync")
    def fast_sync(self, doc: Document, parameters: dict[str, Any], **kwargs: Any) -> Iterator[Document]:
        try:
            for index in range(int(doc.text or "0")):
                if index == parameters.get("fail_at"):
                    raise ValueError(f"failed at {index}")
                self.produced += 1
                yield Document(text=str(index))
        finally:
            self.closed.set()

    @requests(on="/gated")
    async def gated(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        yield Document(text="first")
        await asyncio.wait_for(self.async_gate.wait(), 20)
        yield Document(text="last")

    @requests(on="/gated-sync")
    def gated_sync(self, doc: Document, **kwargs: Any) -> Iterator[Document]:
        yield Document(text="first")
        assert self.sync_gate.wait(20)
        yield Document(text="last")

    @requests(on="/sync-unary")
    def sync_unary(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.text = "served"


def texts(response: DataRequest) -> list[str]:
    return [doc.text or "" for doc in decode_docs(response.docs, Document)]


async def collect(channel: grpc.aio.Channel, request: DataRequest, *, batched: bool) -> list[DataRequest]:
    metadata = (STREAM_BATCHED_METADATA,) if batched else ()
    return [item async for item in stub(channel).ProcessStream(request, metadata=metadata, timeout=RPC_TIMEOUT_S)]


async def test_fast_generators_are_coalesced_into_fewer_messages() -> None:
    async with ExecutorWorker(Streams(), name="s") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        for endpoint in ("/fast", "/fast-sync"):
            items = await collect(channel, request_for(endpoint, [Document(text=str(MANY))]), batched=True)
            assert len(items) < MANY // 4, (endpoint, len(items))
            assert [text for item in items for text in texts(item)] == [str(i) for i in range(MANY)]
            # Each message's stream_index is the position of its first document.
            starts = [0]
            for item in items[:-1]:
                starts.append(starts[-1] + len(texts(item)))
            assert [item.stream_index for item in items] == starts
            assert all(item.routes[-1].executor == "s" for item in items)


async def test_without_the_metadata_each_document_is_its_own_message() -> None:
    async with ExecutorWorker(Streams(), name="s") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        for endpoint in ("/fast", "/fast-sync"):
            items = await collect(channel, request_for(endpoint, [Document(text="50")]), batched=False)
            assert [texts(item) for item in items] == [[str(i)] for i in range(50)]
            assert [item.stream_index for item in items] == list(range(50))


async def test_slow_generators_first_document_arrives_before_they_finish() -> None:
    executor = Streams()
    async with ExecutorWorker(executor, name="s") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        for endpoint, release in (("/gated", executor.async_gate.set), ("/gated-sync", executor.sync_gate.set)):
            call = stub(channel).ProcessStream(
                request_for(endpoint, [Document()]), metadata=(STREAM_BATCHED_METADATA,), timeout=RPC_TIMEOUT_S
            )
            stream = call.__aiter__()
            first = await stream.__anext__()
            # The generator is still waiting for its gate: the first document did not wait for it.
            assert texts(first) == ["first"] and first.stream_index == 0
            release()
            rest = [item async for item in stream]
            assert [texts(item) for item in rest] == [["last"]] and rest[0].stream_index == 1


async def test_error_ends_a_batched_stream_after_the_documents_before_it() -> None:
    async with ExecutorWorker(Streams(), name="s") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        request = request_for("/fast-sync", [Document(text=str(MANY))], {"fail_at": 700})
        items = await collect(channel, request, batched=True)
    *documents, failed = items
    assert [text for item in documents for text in texts(item)] == [str(i) for i in range(700)]
    assert all(item.status.code == Status.SUCCESS for item in documents)
    error = error_of(failed)
    assert error is not None and (error.executor, error.message) == ("s", "failed at 700")
    assert failed.stream_index == 700


async def test_a_long_sync_stream_leaves_room_for_other_sync_calls_and_stops_when_cancelled() -> None:
    executor = Streams()
    total = 10_000_000
    async with ExecutorWorker(executor, name="s") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        call = stub(channel).ProcessStream(
            request_for("/fast-sync", [Document(text=str(total))]),
            metadata=(STREAM_BATCHED_METADATA,),
            timeout=RPC_TIMEOUT_S,
        )
        stream = call.__aiter__()
        await stream.__anext__()
        # The sync handler thread is shared: the stream gives way to this call between slices.
        response = await asyncio.wait_for(process(worker.address, request_for("/sync-unary", [Document()])), 10)
        assert texts(response) == ["served"]
        assert executor.produced < total
        call.cancel()
        # The caller left: the generator is closed on the handler thread, long before its end.
        assert await asyncio.to_thread(executor.closed.wait, 10)
        assert executor.produced < total
