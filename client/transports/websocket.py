"""The WebSocket transport: one connection per `post()` on `/ws`, DataRequests streamed both ways.

The protocol is the gateway's (`app/ws_route.py`): each client frame is one serialized
`DataRequest` (binary); each server frame is one answered `DataRequest`, in completion order,
matched by `header.request_id`; an empty binary frame from the client says "no more requests",
after which the gateway answers the rest and closes with code 1000. `compression` turns on
permessage-deflate for the connection. `dry_run()`/`endpoints()` use HTTP on the same port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from flowql._exceptions import BadRequestError
from flowql.client.batching import OutgoingRequest
from flowql.client.errors import error_from_websocket
from flowql.client.response import Response
from flowql.client.settings import ClientSettings
from flowql.client.transports.base import ClientTransport, ExchangeOptions
from flowql.client.transports.http import HttpTransport
from flowql.proto.flowql_pb2 import DataRequest

__all__ = ["WebSocketTransport", "WEBSOCKET_PATH"]

WEBSOCKET_PATH = "/ws"


class WebSocketTransport(ClientTransport):
    """Streams DataRequests over a WebSocket; discovery calls go over plain HTTP on the same port."""

    def __init__(self, settings: ClientSettings, http: Callable[[], httpx.AsyncClient]) -> None:
        self.address = settings.address
        self._settings = settings
        self._url = settings.ws_url(WEBSOCKET_PATH)
        self._http_side = HttpTransport(settings, http)

    async def _connect(self, options: ExchangeOptions) -> ClientConnection:
        try:
            return await connect(
                self._url,
                ssl=self._settings.ssl_context() if self._settings.tls else None,
                compression="deflate" if options.compression else None,
                max_size=None,
                additional_headers=self._settings.headers or None,
                open_timeout=30,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise error_from_websocket(exc, self.address) from exc

    async def exchange(
        self, requests: AsyncIterator[OutgoingRequest], options: ExchangeOptions
    ) -> AsyncGenerator[Response, None]:
        websocket = await self._connect(options)
        inbox: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        sent = 0

        async def send_all() -> None:
            nonlocal sent
            try:
                async for request in requests:
                    await websocket.send(request.proto().SerializeToString())
                    sent += 1
                await websocket.send(b"")  # "no more requests": the gateway closes once all are answered
                await inbox.put(None)
            except Exception as exc:
                await inbox.put(exc)

        async def receive_all() -> None:
            try:
                async for message in websocket:
                    if isinstance(message, str):
                        text = message[:200]
                        raise BadRequestError(f"gateway at {self.address} sent text on the DataRequest stream: {text}")
                    await inbox.put(message)
                await inbox.put(ConnectionClosedEarly())
            except Exception as exc:
                await inbox.put(exc)

        tasks = [asyncio.create_task(send_all()), asyncio.create_task(receive_all())]
        sent_all, received = False, 0
        doc_type = options.doc_type
        try:
            while not (sent_all and received == sent):
                item = await inbox.get()
                if item is None:
                    sent_all = True
                elif isinstance(item, BaseException):
                    if isinstance(item, ConnectionClosed | OSError | ConnectionClosedEarly):
                        raise error_from_websocket(item, self.address) from item
                    raise item
                else:
                    received += 1
                    reply = DataRequest()
                    reply.ParseFromString(item)
                    yield Response(reply, doc_type=doc_type)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await websocket.close()

    async def dry_run(self, time_limit: float | None = None) -> bool:
        return await self._http_side.dry_run(time_limit)

    async def endpoints(self, time_limit: float | None = None) -> list[str]:
        return await self._http_side.endpoints(time_limit)

    async def aclose(self) -> None:
        """Connections are per post and closed by it."""


class ConnectionClosedEarly(Exception):
    """The gateway closed the WebSocket while answers were still due."""

    def __str__(self) -> str:
        return "the connection closed before every request was answered"
