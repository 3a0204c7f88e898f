"""The HTTP transport: one `POST /post` per request over the client's keep-alive connection pool.

The JSON shapes are the gateway's (`app/http_routes.py`). Request body::

    {"data": [<document>, ...], "execEndpoint": "/index", "parameters": {...},
     "targetExecutor": "regex" | null, "requestId": "<hex id>"}

Response body (HTTP 200 also for executor errors, which travel in the status)::

    {"header": {"requestId": "...", "execEndpoint": "...", "targetExecutor": "...",
                "status": {"code": 0 | 1, "description": "...",
                           "exception": {"executor", "exceptionType", "message", "traceback"} | null}},
     "parameters": {...}, "data": [<document>, ...],
     "routes": [{"executor", "startTimeNs", "endTimeNs", "shard", "replica", "address"}]}

A document is a JSON object of its fields: tensors as (nested) lists of numbers, blobs base64,
matches/chunks as lists of documents. Bad input is a 400 with `{"errors": [{"message"}]}`.
`status` is also read at the top level, and snake_case keys too. Requests run concurrently, at
most `_MAX_POSTS_IN_FLIGHT` (8) on the wire at once, whatever the post's `prefetch`; `dry_run()`
reads `GET /dry_run`, `endpoints()` `GET /status`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx

from flowql._exceptions import FlowQLError, TransportError
from flowql.client.batching import OutgoingRequest
from flowql.client.errors import error_from_http_status, error_from_httpx
from flowql.client.response import Response
from flowql.client.settings import ClientSettings
from flowql.client.transports.base import ClientTransport, ExchangeOptions
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import set_parameters

__all__ = ["HttpTransport", "response_from_json"]

_JSON = "application/json"
_ACCEPT_ENCODING = {"gzip": "gzip", "deflate": "deflate"}
# Posts of one exchange on the wire at once. httpx's pool scans every connection for each request,
# so with `prefetch` (1000) posts in flight the client spent most of its CPU choosing connections
# (measured: 100-document posts went from ~8,500 to ~13,000 documents/s, benchmarks/README.md);
# a few connections already keep one gateway busy.
_MAX_POSTS_IN_FLIGHT = 8


class HttpTransport(ClientTransport):
    """Sends each request as `POST /post`; answers come back as soon as each finishes."""

    def __init__(self, settings: ClientSettings, http: Callable[[], httpx.AsyncClient]) -> None:
        self.address = settings.address
        self._settings = settings
        self._http = http
        self._post_url = settings.http_url("/post")

    async def exchange(
        self, requests: AsyncIterator[OutgoingRequest], options: ExchangeOptions
    ) -> AsyncGenerator[Response, None]:
        headers = {"Content-Type": _JSON}
        if options.compression:
            # Bodies go out plain (Starlette does not inflate requests); answers may come compressed.
            headers["Accept-Encoding"] = _ACCEPT_ENCODING.get(options.compression.lower(), "identity")
        answers: asyncio.Queue[Response | BaseException | None] = asyncio.Queue()
        in_flight: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(_MAX_POSTS_IN_FLIGHT)
        sent = 0

        async def post_one(request: OutgoingRequest) -> None:
            try:
                await answers.put(await self._post(request, headers, options))
            except Exception as exc:  # surfaces in the consumer below
                await answers.put(exc)
            finally:
                slots.release()

        async def send_all() -> None:
            nonlocal sent
            try:
                async for request in requests:
                    await slots.acquire()
                    sent += 1
                    task = asyncio.create_task(post_one(request))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                await answers.put(None)
            except Exception as exc:
                await answers.put(exc)

        sender = asyncio.create_task(send_all())
        sent_all = False
        received = 0
        try:
            while not (sent_all and received == sent):
                item = await answers.get()
                if item is None:
                    sent_all = True
                elif isinstance(item, BaseException):
                    raise item
                else:
                    received += 1
                    yield item
        finally:
            sender.cancel()
            for task in list(in_flight):
                task.cancel()
            await asyncio.gather(sender, *in_flight, return_exceptions=True)

    async def _post(self, request: OutgoingRequest, headers: dict[str, str], options: ExchangeOptions) -> Response:
        try:
            reply = await self._http().post(
                self._post_url, content=request.json_body(), headers=headers, timeout=options.timeout
            )
        except httpx.HTTPError as exc:
            raise error_from_httpx(exc, self.address) from exc
        body = _json_or_none(reply)
        if isinstance(body, dict) and ("data" in body or "header" in body):
            return response_from_json(body, request, options)
        if reply.status_code >= 400:
            raise error_from_http_status(reply.status_code, reply.text, self.address)
        raise TransportError(f"gateway at {self.address} answered /post with an unexpected body: {reply.text[:200]}")

    async def dry_run(self, time_limit: float | None = None) -> bool:
        # 200 with code 0 when every executor is reachable, 503 with code 1 (and which) otherwise.
        reply = await self._get("/dry_run", time_limit)
        body = _json_or_none(reply)
        if isinstance(body, dict) and "code" in body:
            return body["code"] in (0, "SUCCESS")
        raise error_from_http_status(reply.status_code, reply.text, self.address)

    async def endpoints(self, time_limit: float | None = None) -> list[str]:
        # GET /status lists each executor with its endpoints.
        reply = await self._get("/status", time_limit)
        body = _json_or_none(reply)
        if reply.status_code >= 400 or not isinstance(body, dict):
            raise error_from_http_status(reply.status_code, reply.text, self.address)
        return sorted(
            {str(name) for executor in body.get("executors") or [] for name in executor.get("endpoints") or []}
        )

    async def _get(self, path: str, time_limit: float | None) -> httpx.Response:
        try:
            return await self._http().get(self._settings.http_url(path), timeout=time_limit)
        except httpx.HTTPError as exc:
            raise error_from_httpx(exc, self.address) from exc

    async def aclose(self) -> None:
        """Nothing of its own to close: the connection pool belongs to the client."""


def _json_or_none(reply: httpx.Response) -> Any:
    if not reply.headers.get("content-type", "").startswith(_JSON):
        return None
    try:
        return reply.json()
    except json.JSONDecodeError:
        return None


def _camel_or_snake(mapping: dict[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    """The value under the gateway's camelCase key, else under its snake_case spelling."""
    return mapping.get(camel, mapping.get(snake, default))


def response_from_json(body: dict[str, Any], request: OutgoingRequest, options: ExchangeOptions) -> Response:
    """The `Response` for a `/post` JSON answer to `request` (documents stay JSON until `.docs` is read)."""
    proto = DataRequest()
    header = body.get("header") or {}
    proto.header.request_id = _camel_or_snake(header, "requestId", "request_id") or request.request_id
    proto.header.exec_endpoint = _camel_or_snake(header, "execEndpoint", "exec_endpoint") or request.template.endpoint
    proto.header.target_executor = _camel_or_snake(header, "targetExecutor", "target_executor") or ""
    set_parameters(proto, body.get("parameters") or {})
    for route in body.get("routes") or []:
        added = proto.routes.add()
        added.executor = str(route.get("executor", ""))
        added.start_time_ns = int(_camel_or_snake(route, "startTimeNs", "start_time_ns", 0) or 0)
        added.end_time_ns = int(_camel_or_snake(route, "endTimeNs", "end_time_ns", 0) or 0)
        added.shard = int(route.get("shard", 0) or 0)
        added.replica = int(route.get("replica", 0) or 0)
        added.address = str(route.get("address", "") or "")
    status = body.get("status") or header.get("status") or {}
    code = status.get("code", 0)
    if code in (1, "ERROR", "error"):
        proto.status.code = Status.ERROR
        proto.status.description = str(status.get("description", ""))
        exception = status.get("exception") or {}
        detail = proto.status.exception
        detail.executor = str(exception.get("executor", "") or "")
        detail.exception_type = str(_camel_or_snake(exception, "exceptionType", "exception_type", "") or "")
        detail.message = str(exception.get("message", "") or proto.status.description)
        detail.traceback = str(exception.get("traceback", "") or "")
    data = body.get("data") or []
    if not isinstance(data, list):
        raise FlowQLError(f"/post answered with 'data' that is not a list: {type(data).__name__}")
    return Response(proto, doc_type=options.doc_type, json_docs=data)
