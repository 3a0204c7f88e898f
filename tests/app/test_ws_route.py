"""The DataRequest WebSocket (`/ws`) over real uvicorn and the `websockets` client."""

from __future__ import annotations

import asyncio
from typing import Any

import websockets
from docarray import DocList

from flowql.app.asgi import create_app
from flowql.app.settings import GatewaySettings
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import new_request
from tests.app.asgi_harness import on_uvicorn
from tests.app.fake_streamer import FakeEndpoint, FakeExecutor, FakeStreamer


def shout(docs: DocList[Document], parameters: dict[str, Any]) -> None:
    for doc in docs:
        if doc.text == "boom":
            raise ValueError("boom")
        doc.text = (doc.text or "").upper()


async def receive(ws: Any) -> bytes:
    frame = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(frame, bytes)
    return frame


def streamer() -> FakeStreamer:
    return FakeStreamer([FakeExecutor("shouter", [FakeEndpoint("/shout", shout)])])


async def test_requests_stream_both_ways_and_end_with_an_empty_frame() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with websockets.connect(base.replace("http://", "ws://") + "/ws") as ws:
            for i in range(5):
                request = new_request("/shout", docs=encode_docs([Document(text=f"t{i}")]), request_id=f"r{i}")
                await ws.send(request.SerializeToString())
            await ws.send(b"")
            answers = {}
            for _ in range(5):
                response = DataRequest()
                response.ParseFromString(await receive(ws))
                answers[response.header.request_id] = decode_docs(response.docs, Document)[0].text
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1000
    assert answers == {f"r{i}": f"T{i}" for i in range(5)}


async def test_executor_errors_come_back_in_the_status() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with websockets.connect(base.replace("http://", "ws://") + "/ws") as ws:
            await ws.send(new_request("/shout", docs=encode_docs([Document(text="boom")])).SerializeToString())
            response = DataRequest()
            response.ParseFromString(await receive(ws))
    assert response.status.code == Status.ERROR
    assert response.status.exception.executor == "shouter"
    assert response.status.exception.exception_type == "ValueError"


async def test_a_frame_that_is_not_a_data_request_closes_with_1003() -> None:
    async with on_uvicorn(create_app(streamer(), GatewaySettings())) as base:
        async with websockets.connect(base.replace("http://", "ws://") + "/ws") as ws:
            await ws.send("hello")
            await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 1003
    assert "binary" in (ws.close_reason or "")


async def test_at_most_prefetch_requests_of_a_connection_are_processed_at_once() -> None:
    in_flight, most = 0, 0

    async def slow(docs: DocList[Document], parameters: dict[str, Any]) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)  # long enough for the next frames to arrive meanwhile
        in_flight -= 1

    fake = FakeStreamer([FakeExecutor("slow", [FakeEndpoint("/slow", slow)])])
    async with on_uvicorn(create_app(fake, GatewaySettings(prefetch=2))) as base:
        async with websockets.connect(base.replace("http://", "ws://") + "/ws") as ws:
            for i in range(8):
                await ws.send(new_request("/slow", request_id=f"r{i}").SerializeToString())
            await ws.send(b"")
            answered = set()
            for _ in range(8):
                response = DataRequest()
                response.ParseFromString(await receive(ws))
                answered.add(response.header.request_id)
    assert answered == {f"r{i}" for i in range(8)}
    assert most == 2
