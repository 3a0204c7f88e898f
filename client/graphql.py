"""GraphQL over HTTP (`execute`, behind `mutate`) and over `graphql-transport-ws` (`subscribe`).

The subscription speaks the protocol's client side: `connection_init` -> `connection_ack`,
`subscribe`, then `next`* until `complete` or `error`; `ping` is answered with `pong`. Leaving
the loop early sends `complete` for the operation and closes the socket, so the server stops the
work behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncGenerator
from typing import Any, Literal, TypedDict

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from flowql._exceptions import GraphQLResponseError, TransportError
from flowql.client.errors import error_from_http_status, error_from_httpx, error_from_websocket

__all__ = ["execute", "subscribe", "SUBPROTOCOL"]

SUBPROTOCOL = "graphql-transport-ws"
_OPERATION_ID = "1"  # one operation per connection


class SubscribeMessage(TypedDict):
    """Client -> server: start the operation `id`."""

    id: str
    type: Literal["subscribe"]
    payload: dict[str, Any]


async def execute(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None,
    time_limit: float | None,
    headers: dict[str, str] | None,
    address: str,
) -> dict[str, Any]:
    """POST a query or mutation; the whole response body, or GraphQLResponseError when it has errors."""
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    try:
        reply = await http.post(url, json=payload, headers=headers, timeout=time_limit)
    except httpx.HTTPError as exc:
        raise error_from_httpx(exc, address) from exc
    try:
        body = reply.json()
    except json.JSONDecodeError:
        raise error_from_http_status(reply.status_code, reply.text, address) from None
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise error_from_http_status(reply.status_code, reply.text, address)
    if body.get("errors"):
        raise GraphQLResponseError(list(body["errors"]), body.get("data"))
    return body


async def subscribe(
    url: str,
    query: str,
    variables: dict[str, Any] | None,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext | None,
    address: str,
) -> AsyncGenerator[dict[str, Any], None]:
    """Each `next` payload (`{"data": ..., "errors"?: [...]}`) of one subscription, as it arrives."""
    try:
        websocket = await connect(
            url,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            ssl=ssl_context,
            additional_headers=headers or None,
            max_size=None,
            open_timeout=30,
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise error_from_websocket(exc, address) from exc
    completed = False
    try:
        await _send(websocket, {"type": "connection_init", "payload": headers})
        await _expect_ack(websocket, address)
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        start: SubscribeMessage = {"id": _OPERATION_ID, "type": "subscribe", "payload": payload}
        await _send(websocket, dict(start))
        while True:
            message = await _receive(websocket, address)
            kind = message.get("type")
            if kind == "next":
                yield message.get("payload") or {}
            elif kind == "error":
                completed = True
                raise GraphQLResponseError(list(message.get("payload") or []), None)
            elif kind == "complete":
                completed = True
                return
            elif kind == "ping":
                await _send(websocket, {"type": "pong"})
            # "pong" and anything unknown: nothing to do
    finally:
        if not completed:
            with contextlib.suppress(ConnectionClosed, OSError, asyncio.CancelledError):
                await _send(websocket, {"id": _OPERATION_ID, "type": "complete"})
        await websocket.close()


async def _send(websocket: ClientConnection, message: dict[str, Any]) -> None:
    await websocket.send(json.dumps(message))


async def _receive(websocket: ClientConnection, address: str) -> dict[str, Any]:
    try:
        raw = await websocket.recv()
    except ConnectionClosed as exc:
        raise error_from_websocket(exc, address) from exc
    message = json.loads(raw)
    if not isinstance(message, dict):
        raise TransportError(f"gateway at {address} sent a malformed subscription message: {raw!r}")
    return message


async def _expect_ack(websocket: ClientConnection, address: str) -> None:
    while True:
        message = await _receive(websocket, address)
        if message.get("type") == "connection_ack":
            return
        if message.get("type") == "ping":
            await _send(websocket, {"type": "pong"})
            continue
        raise TransportError(f"gateway at {address} did not acknowledge the subscription connection: {message}")
