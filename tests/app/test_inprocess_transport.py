"""`InProcessTransport` over the worker's own ExecutorServicer: real Executors, no sockets."""

from __future__ import annotations

from flowql import Document, DocumentArray
from flowql.app.inprocess_transport import InProcessTransport
from flowql.app.settings import GatewaySettings
from flowql.app.streamer import GatewayStreamer
from flowql.app.transport import ExecutorTransport
from flowql.codec import decode_docs
from flowql.executors.handlers import HandlerTable
from flowql.executors.processing import RequestProcessor
from flowql.executors.servicer import ExecutorServicer
from flowql.proto.flowql_pb2 import DataRequest

from .gateway_executors import Upper, Words
from .grpc_gateway_harness import request_of
from .inprocess_executors import chain


async def servicer_transport(name: str, executor: object) -> InProcessTransport:
    processor = RequestProcessor(HandlerTable.collect(executor), name=name)  # type: ignore[arg-type]
    return await InProcessTransport.from_servicer(name, ExecutorServicer(processor))


def texts(response: DataRequest) -> list[str | None]:
    return [doc.text for doc in DocumentArray(decode_docs(response.docs, Document))]


async def test_streamer_routes_through_real_executors_in_process() -> None:
    transports: dict[str, ExecutorTransport] = {
        "upper": await servicer_transport("upper", Upper()),
        "words": await servicer_transport("words", Words()),
    }
    streamer = GatewayStreamer(chain("upper", "words"), GatewaySettings(), lambda n, s, a: transports[n])
    async with streamer:
        response = await streamer.process(request_of(Document(text="a b")))
        assert texts(response) == ["A B"]
        streamed = [r async for r in streamer.stream(request_of(Document(text="a b"), endpoint="/words"))]
    assert [texts(r) for r in streamed] == [["A"], ["B"]]
    assert [route.executor for route in response.routes] == ["gateway", "upper", "words"]


async def test_handler_gets_a_copy_of_the_request() -> None:
    received: list[DataRequest] = []

    async def keep(request: DataRequest) -> DataRequest:
        received.append(request)
        return request

    transport = InProcessTransport("keep", keep)
    original = request_of(Document(text="x"))
    await transport.send(original)
    assert received[0] is not original and received[0] == original
    assert await transport.health() == {"in-process": True}
