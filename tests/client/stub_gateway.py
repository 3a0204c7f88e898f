"""A small real GatewayService servicer for the client's tests, on grpc.aio bound to 127.0.0.1:0.

What it does with a request depends on the endpoint:
- `/upper`: upper-cases every document's text; `/fail`: answers with an error status from executor
  'failing'; `/slow`: waits the first document's `tags['delay']` seconds first; anything else: echoes the docs.
Every answer gets a route from executor 'stub' and `parameters['__results__']['stub']` with the
number of documents it saw. Knobs: `fail_calls` (abort that many Call streams with UNAVAILABLE
before reading anything), `drop_after` (abort the stream with UNAVAILABLE after answering that many
requests, once), `hold` (answers wait until the event is set).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from flowql.proto import flowql_pb2, flowql_pb2_grpc
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import RESULTS_KEY, add_route, get_parameters, set_error, set_parameters

Context = grpc.aio.ServicerContext[DataRequest, DataRequest]


@dataclass
class Seen:
    request_id: str
    endpoint: str
    docs: int
    parameters: dict[str, object]
    target_executor: str
    compression: str


@dataclass
class StubGateway(flowql_pb2_grpc.GatewayServiceServicer):
    fail_calls: int = 0
    drop_after: int | None = None
    hold: asyncio.Event | None = None
    seen: list[Seen] = field(default_factory=list)
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    metadata: list[dict[str, str]] = field(default_factory=list)
    dry_run_ok: bool = True
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def answer(self, request: DataRequest) -> DataRequest:
        header = request.header
        parameters = get_parameters(request)
        self.seen.append(
            Seen(
                header.request_id,
                header.exec_endpoint,
                len(decode_docs(request.docs, Document)) if request.docs else 0,
                dict(parameters),
                header.target_executor,
                header.compression,
            )
        )
        if self.hold is not None:
            await self.hold.wait()
        docs = decode_docs(request.docs, Document) if request.docs else []
        if header.exec_endpoint == "/slow":
            # Simulated work (not a readiness wait): the first document's tags['delay'] seconds.
            await asyncio.sleep(float(docs[0].tags.get("delay", 0.0)) if docs else 0.0)
        response = DataRequest()
        response.CopyFrom(request)
        start = time.time_ns()
        if header.exec_endpoint == "/upper":
            for doc in docs:
                doc.text = (doc.text or "").upper()
            response.docs = encode_docs(docs)
        if header.exec_endpoint == "/fail":
            set_error(response, "failing", ValueError("boom"))
        parameters.setdefault(RESULTS_KEY, {})["stub"] = {"docs": len(docs)}
        set_parameters(response, parameters)
        add_route(response, "stub", start, address="stub")
        return response

    async def _admit(self, context: Context) -> None:
        """Count the call, keep its metadata, and refuse it while `fail_calls` says so."""
        self.calls += 1
        self.metadata.append({key: str(value) for key, value in context.invocation_metadata() or ()})
        if self.fail_calls > 0:
            self.fail_calls -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "stub gateway is down for now")

    async def Call(self, request_iterator: AsyncIterator[DataRequest], context: Context) -> AsyncIterator[DataRequest]:
        await self._admit(context)
        answers: asyncio.Queue[DataRequest | None] = asyncio.Queue()

        async def handle(request: DataRequest) -> None:
            await answers.put(await self.answer(request))

        async def read() -> None:
            async with asyncio.TaskGroup() as group:
                async for request in request_iterator:
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                    group.create_task(handle(request))
            await answers.put(None)

        reader = asyncio.create_task(read())
        sent = 0
        try:
            while (answer := await answers.get()) is not None:
                self.in_flight -= 1
                if self.drop_after is not None and sent >= self.drop_after:
                    self.drop_after = None
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "stub gateway dropped the stream")
                sent += 1
                yield answer
            await reader
        finally:
            reader.cancel()
            self.ended.set()

    async def Process(self, request: DataRequest, context: Context) -> DataRequest:
        # The client sends a post of one request as a unary Process call.
        await self._admit(context)
        return await self.answer(request)

    async def Endpoints(self, request: flowql_pb2.EndpointsRequest, context: Context) -> flowql_pb2.EndpointsInfo:
        info = flowql_pb2.EndpointsInfo(executor="stub", has_default=True)
        for name in ("/upper", "/fail", "/slow"):
            info.endpoints.add(endpoint=name)
        return info

    async def DryRun(self, request: flowql_pb2.DryRunRequest, context: Context) -> flowql_pb2.DryRunResponse:
        reply = flowql_pb2.DryRunResponse()
        if not self.dry_run_ok:
            reply.status.code = flowql_pb2.Status.ERROR
        return reply


async def start_stub(servicer: StubGateway, tls: tuple[Path, Path] | None = None) -> tuple[grpc.aio.Server, int]:
    """Serve `servicer` on the running loop; (server, bound port). `tls` = (certificate, key) PEM files."""
    server = grpc.aio.server()
    flowql_pb2_grpc.add_GatewayServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    if tls is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        credentials = grpc.ssl_server_credentials([(tls[1].read_bytes(), tls[0].read_bytes())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    return server, port


@contextmanager
def stub_in_thread(servicer: StubGateway, tls: tuple[Path, Path] | None = None) -> Iterator[int]:
    """Serve `servicer` on its own event loop thread (for the blocking Client's tests); yields the port."""
    ready = threading.Event()
    box: dict[str, object] = {}

    async def main() -> None:
        server, port = await start_stub(servicer, tls)
        stop = asyncio.Event()
        box.update(port=port, stop=stop, loop=asyncio.get_running_loop())
        ready.set()
        await stop.wait()
        await server.stop(0)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "the stub gateway did not start"
    try:
        yield int(box["port"])  # type: ignore[call-overload]
    finally:
        loop = box["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
        thread.join(30)
