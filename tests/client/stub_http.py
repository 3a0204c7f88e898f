"""A small real HTTP gateway for the client's tests: Starlette + strawberry on uvicorn, 127.0.0.1:0.

It serves what the client talks to, in the gateway's shapes (app/http_routes.py, app/ws_route.py):
`POST /post` (JSON), `/ws` (DataRequest frames, an empty frame ends the input), `GET /dry_run`,
`GET /status`, and `/graphql` with a tiny schema (`stub.fail_calls` makes the next posts answer 503 /
close the socket with 1013 "try again later"); `hello` query; `upper(text)` and `broken`
mutations; `count(to, delay)` subscription whose generator records when it is stopped.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from flowql.client.json_docs import doc_from_json, doc_to_json
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import get_parameters, new_request
from tests.client.stub_gateway import StubGateway


@dataclass
class SubscriptionLog:
    """What the `count` subscription did: values sent, and whether its generator was stopped."""

    sent: list[int] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    headers: list[dict[str, str]] = field(default_factory=list)


def build_schema(log: SubscriptionLog) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self, name: str = "world") -> str:
            return f"hello {name}"

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def upper(self, text: str) -> str:
            return text.upper()

        @strawberry.mutation
        def broken(self) -> str | None:
            raise ValueError("broken on purpose")

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def count(self, to: int, delay: float = 0.0) -> AsyncGenerator[int, None]:
            try:
                for value in range(to):
                    if delay:
                        await asyncio.sleep(delay)  # simulated work between events
                    log.sent.append(value)
                    yield value
            finally:
                log.stopped.set()

    return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)


def _json_of(response: DataRequest) -> dict[str, Any]:
    status = response.status
    exception = None
    if status.code == Status.ERROR:
        detail = status.exception
        exception = {
            "executor": detail.executor,
            "exceptionType": detail.exception_type,
            "message": detail.message,
            "traceback": detail.traceback,
        }
    return {
        "header": {
            "requestId": response.header.request_id,
            "execEndpoint": response.header.exec_endpoint,
            "targetExecutor": response.header.target_executor,
            "status": {"code": int(status.code), "description": status.description, "exception": exception},
        },
        "parameters": get_parameters(response),
        "data": [doc_to_json(doc) for doc in decode_docs(response.docs, Document)] if response.docs else [],
        "routes": [{"executor": route.executor, "address": route.address} for route in response.routes],
    }


def build_app(stub: StubGateway, log: SubscriptionLog) -> Starlette:
    async def post(request: Request) -> JSONResponse:
        if request.headers.get("x-fail") == "503":
            return JSONResponse({"detail": "down"}, status_code=503)
        if stub.fail_calls > 0:
            stub.fail_calls -= 1
            return JSONResponse({"detail": "down for now"}, status_code=503)
        body = json.loads(await request.body())
        docs = [doc_from_json(item, Document) for item in body.get("data") or []]
        data_request = new_request(
            body.get("execEndpoint") or "/",
            docs=encode_docs(docs) if docs else b"",
            parameters=body.get("parameters"),
            target_executor=body.get("targetExecutor") or "",
            request_id=body.get("requestId"),
        )
        return JSONResponse(_json_of(await stub.answer(data_request)))

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        if stub.fail_calls > 0:
            stub.fail_calls -= 1
            await websocket.close(1013, "down for now")
            return
        tasks: set[asyncio.Task[None]] = set()
        lock = asyncio.Lock()

        async def answer(request: DataRequest) -> None:
            response = await stub.answer(request)
            async with lock:
                await websocket.send_bytes(response.SerializeToString())

        try:
            while True:
                data = await websocket.receive_bytes()
                if not data:
                    await asyncio.gather(*tasks)
                    await websocket.close(1000)
                    return
                request = DataRequest()
                request.ParseFromString(data)
                if request.header.exec_endpoint == "/close-socket":
                    await websocket.close(1011, "stub closes on purpose")
                    return
                task = asyncio.create_task(answer(request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except WebSocketDisconnect:
            return

    async def dry_run(request: Request) -> JSONResponse:
        ok = stub.dry_run_ok
        return JSONResponse({"code": 0 if ok else 1, "executors": {"stub": ok}}, status_code=200 if ok else 503)

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"executors": [{"name": "stub", "endpoints": ["/upper", "/fail", "/slow"]}]})

    class RecordingGraphQL(GraphQL[Any, Any]):
        async def get_context(self, request: Any, response: Any = None) -> Any:
            log.headers.append({key: value for key, value in request.headers.items()})
            return await super().get_context(request, response)

    graphql = RecordingGraphQL(build_schema(log), subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])
    return Starlette(
        routes=[
            Route("/post", post, methods=["POST"]),
            WebSocketRoute("/ws", socket),
            Route("/dry_run", dry_run),
            Route("/status", status),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )


@contextmanager
def serve_in_thread(app: Starlette, tls: tuple[Path, Path] | None = None) -> Iterator[int]:
    """Run `app` on a real uvicorn in a thread (its own event loop); yields the bound port."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn's own readiness flag, polled with a bound
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(30)
