"""ExecutorWorker in-process: a real grpc.aio server on 127.0.0.1:0, spoken to over a real channel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from flowql import Document, DocumentArray
from flowql.codec import decode_docs
from flowql.executors import Executor, requests
from flowql.executors.worker import ExecutorWorker
from flowql.proto.flowql_pb2 import Status
from flowql.request import RESULTS_KEY, error_of, get_parameters
from tests.executors.grpc_helpers import RPC_TIMEOUT_S, endpoints, health_status, process, request_for, stub


class Blocking(Executor):
    """A sync handler that blocks on an event the test controls, next to an async handler."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.closed = False

    @requests(on="/block")
    def block(self, docs: DocumentArray, **kwargs: Any) -> None:
        self.entered.set()
        assert self.release.wait(20)
        for doc in docs:
            doc.text = "released"

    @requests(on="/quick")
    async def quick(self, docs: DocumentArray, **kwargs: Any) -> dict[str, Any]:
        return {"shard": self.runtime_args.shard_id}

    @requests(on="/wrong")
    def wrong(self, docs: DocumentArray, **kwargs: Any) -> int:
        return 3

    @requests(on="/words")
    async def words(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        for word in (doc.text or "").split():
            yield Document(text=word)

    @requests
    async def default(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.tags["default"] = True

    async def close(self) -> None:
        self.closed = True


async def test_sync_handler_does_not_block_health_or_async_handlers() -> None:
    executor = Blocking()
    async with ExecutorWorker(executor, name="blk") as worker:
        blocked = asyncio.ensure_future(process(worker.address, request_for("/block", [Document(text="x")])))
        try:
            assert await asyncio.to_thread(executor.entered.wait, 20)
            assert await health_status(worker.address) == health_pb2.HealthCheckResponse.SERVING
            quick = await process(worker.address, request_for("/quick", [Document()]))
            assert get_parameters(quick)[RESULTS_KEY] == {"blk": {"shard": 0}}
            assert not blocked.done()
        finally:
            executor.release.set()
        response = await blocked
        assert [doc.text for doc in decode_docs(response.docs, Document)] == ["released"]
    assert executor.closed


async def test_sharded_results_key_and_route_placement() -> None:
    async with ExecutorWorker(Blocking(), name="idx", shard_id=1, shards=2, replica_id=0) as worker:
        response = await process(worker.address, request_for("/quick", [Document()], {"keep": 1}))
        assert get_parameters(response) == {"keep": 1, RESULTS_KEY: {"idx/1": {"shard": 1}}}
        [route] = response.routes
        assert (route.executor, route.shard, route.replica, route.address) == ("idx", 1, 0, worker.address)


async def test_results_from_upstream_are_kept() -> None:
    async with ExecutorWorker(Blocking(), name="second") as worker:
        upstream = {RESULTS_KEY: {"first": {"n": 1}}}
        response = await process(worker.address, request_for("/quick", [Document()], upstream))
        assert get_parameters(response)[RESULTS_KEY] == {"first": {"n": 1}, "second": {"shard": 0}}


async def test_wrong_return_type_is_an_error_naming_the_handler() -> None:
    async with ExecutorWorker(Blocking(), name="w") as worker:
        response = await process(worker.address, request_for("/wrong", [Document(text="keep")]))
        error = error_of(response)
        assert error is not None and error.exception_type == "TypeError" and "wrong returned int" in error.message
        assert [doc.text for doc in decode_docs(response.docs, Document)] == ["keep"]


async def test_default_handler_serves_unknown_endpoints_and_is_reported() -> None:
    async with ExecutorWorker(Blocking(), name="d") as worker:
        response = await process(worker.address, request_for("/anything", [Document()]))
        assert decode_docs(response.docs, Document)[0].tags == {"default": True}
        info = await endpoints(worker.address)
        assert info.has_default
        assert sorted(e.endpoint for e in info.endpoints) == ["/block", "/quick", "/words", "/wrong"]
        assert {e.endpoint: e.streaming for e in info.endpoints}["/words"]


async def test_generator_runs_once_per_input_document_in_a_stream() -> None:
    async with ExecutorWorker(Blocking(), name="g") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        request = request_for("/words", [Document(text="a b"), Document(text="c")])
        items = [item async for item in stub(channel).ProcessStream(request, timeout=RPC_TIMEOUT_S)]
    assert [decode_docs(item.docs, Document)[0].text for item in items] == ["a", "b", "c"]
    assert [item.stream_index for item in items] == [0, 1, 2]


async def test_non_generator_endpoint_streams_one_response() -> None:
    async with ExecutorWorker(Blocking(), name="n") as worker, grpc.aio.insecure_channel(worker.address) as channel:
        request = request_for("/quick", [Document()])
        items = [item async for item in stub(channel).ProcessStream(request, timeout=RPC_TIMEOUT_S)]
    assert len(items) == 1 and items[0].status.code == Status.SUCCESS
    assert get_parameters(items[0])[RESULTS_KEY] == {"n": {"shard": 0}}


async def test_base_executor_passes_everything_through() -> None:
    async with ExecutorWorker(Executor(), name="pass") as worker:
        request = request_for("/x")
        request.docs = b"opaque"
        response = await process(worker.address, request)
        assert response.docs == b"opaque" and response.status.code == Status.SUCCESS


async def test_worker_refuses_a_second_start_and_reports_its_port() -> None:
    worker = ExecutorWorker(Executor(), name="once")
    port = await worker.start()
    try:
        assert port > 0 and worker.address == f"127.0.0.1:{port}"
        assert worker.executor.runtime_args.port == port
        with pytest.raises(RuntimeError, match="cannot be started twice"):
            await worker.start()
    finally:
        await worker.stop()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await health_status(worker.address)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_binding_a_taken_port_fails() -> None:
    async with ExecutorWorker(Executor(), name="first") as first:
        second = ExecutorWorker(Executor(), name="second", port=first.port)
        with pytest.raises(RuntimeError):
            await second.start()
