"""Streaming behaviour of post(): bounded prefetch, lazy inputs, retries with backoff, timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from flowql import AsyncClient, Client, Document, RequestTimeout, ServiceUnavailable
from flowql.client import Response
from tests.client.conftest import as_docs
from tests.client.stub_gateway import StubGateway, start_stub, stub_in_thread


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_prefetch_bounds_requests_in_flight_and_inputs_read_ahead() -> None:
    hold = asyncio.Event()
    stub = StubGateway(hold=hold)
    server, port = await start_stub(stub)
    pulled = 0

    def inputs() -> Iterator[Document]:
        nonlocal pulled
        for i in range(1_000_000):  # never materialised: only what the window lets through is read
            pulled += 1
            yield Document(text=f"d{i}")

    try:
        async with AsyncClient(port=port) as client:
            stream = client.post("/echo", inputs(), request_size=10, prefetch=3)
            first = asyncio.ensure_future(anext(stream))
            # Wait (bounded) until the gateway holds 3 requests; the client must then stop reading.
            for _ in range(500):
                if len(stub.seen) >= 3:
                    break
                await asyncio.sleep(0.01)
            assert len(stub.seen) == 3 and stub.in_flight == 3
            assert pulled <= 4 * 10 + 1  # the window (3 batches) plus the next batch being built
            hold.set()
            await first
            count = 1
            async for _ in stream:
                count += 1
                if count == 50:
                    break
            await stream.aclose()
    finally:
        await server.stop(0)
    assert stub.max_in_flight <= 3
    assert pulled <= (50 + 4) * 10 + 1


def test_unavailable_gateway_is_retried_until_it_answers() -> None:
    stub = StubGateway(fail_calls=2)
    with stub_in_thread(stub) as port, Client(port=port) as client:
        result = client.post("/upper", [Document(text="a")], max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    assert as_docs(result).texts == ["A"]
    assert stub.calls == 3


def test_retries_give_up_after_max_attempts_with_the_address_in_the_error() -> None:
    stub = StubGateway(fail_calls=5)
    with stub_in_thread(stub) as port, Client(port=port) as client:
        with pytest.raises(ServiceUnavailable, match=f"gateway at 127.0.0.1:{port} "):
            client.post("/upper", [Document(text="a")], max_attempts=2, initial_backoff=0.01)
    assert stub.calls == 2


def test_nothing_listening_raises_service_unavailable_promptly() -> None:
    port = closed_port()
    with Client(port=port) as client:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match=f"127.0.0.1:{port}"):
            client.post("/upper", [Document(text="a")])
        assert time.monotonic() - started < 10
        assert client.is_flow_ready() is False


def test_on_error_reports_each_unanswered_request_when_the_gateway_is_gone() -> None:
    failures: list[tuple[Response, BaseException]] = []
    with Client(port=closed_port()) as client:
        result = client.post(
            "/upper",
            [Document(text="a"), Document(text="b")],
            request_size=1,
            on_error=lambda r, e: failures.append((r, e)),
        )
    assert result is None
    assert failures and all(isinstance(exc, ServiceUnavailable) for _, exc in failures)
    assert all(response.docs[0].text in ("a", "b") for response, _ in failures)


def test_a_dropped_stream_resends_the_unanswered_requests() -> None:
    stub = StubGateway(drop_after=2)
    inputs = [Document(text=f"d{i}") for i in range(10)]
    with stub_in_thread(stub) as port, Client(port=port) as client:
        result = client.post("/upper", inputs, request_size=1, max_attempts=3, initial_backoff=0.01)
    assert sorted(as_docs(result).texts) == sorted(f"D{i}" for i in range(10))  # nothing lost, nothing doubled
    assert stub.calls == 2


async def test_timeout_bounds_the_wait_for_an_answer() -> None:
    stub = StubGateway(hold=asyncio.Event())
    server, port = await start_stub(stub)
    try:
        async with AsyncClient(port=port) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeout, match="did not answer within 0.2s"):
                async for _ in client.post("/echo", [Document()], timeout=0.2):
                    pass
            assert time.monotonic() - started < 5
    finally:
        await server.stop(0)
    assert stub.seen[0].parameters == {}  # the request did reach the gateway


async def test_a_failing_input_generator_fails_the_post_after_the_sent_requests(tmp_path: object) -> None:
    stub = StubGateway()
    server, port = await start_stub(stub)

    def inputs() -> Iterator[Document]:
        yield Document(text="a")
        raise KeyError("broken input")

    got: list[Response] = []
    try:
        async with AsyncClient(port=port) as client:
            with pytest.raises(KeyError, match="broken input"):
                async for response in client.post("/upper", inputs(), request_size=1):
                    got.append(response)
    finally:
        await server.stop(0)
    assert [r.docs.texts for r in got] == [["A"]]


async def test_leaving_the_async_loop_early_ends_the_stream_at_the_gateway() -> None:
    stub = StubGateway()
    server, port = await start_stub(stub)

    def endless() -> Iterator[Document]:
        while True:
            yield Document(text="x")

    try:
        async with AsyncClient(port=port) as client:
            async with contextlib.aclosing(client.post("/echo", endless(), request_size=1, prefetch=2)) as stream:
                async for index, _ in aenumerate(stream):
                    if index == 2:
                        break
            await asyncio.wait_for(stub.ended.wait(), 10)
    finally:
        await server.stop(0)
    assert len(stub.seen) <= 3 + 2  # what was answered plus the window


async def aenumerate(iterator: AsyncIterator[Response]) -> AsyncIterator[tuple[int, Response]]:
    index = 0
    async for item in iterator:
        yield index, item
        index += 1
