"""`ClientCore`: everything `Client` and `AsyncClient` share, as coroutines on one event loop.

`AsyncClient` awaits these directly; `Client` runs them on its own loop thread. The core owns
the transport (one per event loop, created on first use so its channel or connection pool lives
on the loop that uses it) and the HTTP connection pool that GraphQL and `protocol='http'` share.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from docarray import DocList

from flowql._exceptions import FlowQLError
from flowql.client import graphql
from flowql.client.batching import OutgoingRequest, RequestTemplate, count_requests, request_stream
from flowql.client.callbacks import CallbackRunner
from flowql.client.options import PostOptions
from flowql.client.pipeline import PipelineOptions, RequestPipeline, StreamFailed
from flowql.client.progress import PostProgress
from flowql.client.response import Response
from flowql.client.settings import ClientSettings
from flowql.client.transports import make_transport
from flowql.client.transports.base import ClientTransport, ExchangeOptions
from flowql.documents import Document, DocumentArray

__all__ = ["ClientCore"]


class ClientCore:
    """The client's state and its operations, bound to whichever event loop first uses them."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: ClientTransport | None = None
        self._http: httpx.AsyncClient | None = None
        self._closed = False

    # -- connections ------------------------------------------------------------------------

    async def _bind_loop(self) -> None:
        if self._closed:
            raise RuntimeError("this client is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Channels and connection pools belong to the loop that made them (asyncio.run() twice).
            await self._drop_connections()
            self._loop = loop

    async def transport(self) -> ClientTransport:
        await self._bind_loop()
        if self._transport is None:
            self._transport = make_transport(self.settings, self.http)
        return self._transport

    def http(self) -> httpx.AsyncClient:
        """The shared keep-alive HTTP connection pool (created on first use)."""
        if self._http is None:
            verify: ssl.SSLContext | bool = self.settings.ssl_context() if self.settings.root_certificates else True
            self._http = httpx.AsyncClient(
                verify=verify,
                headers=self.settings.headers,
                timeout=httpx.Timeout(None, connect=30.0),
                # Requests beyond this many connections wait in the pool (prefetch bounds them anyway).
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )
        return self._http

    async def _drop_connections(self) -> None:
        transport, http = self._transport, self._http
        self._transport, self._http = None, None
        for closer in (transport.aclose() if transport else None, http.aclose() if http else None):
            if closer is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await closer

    async def aclose(self) -> None:
        self._closed = True
        await self._drop_connections()

    # -- post -------------------------------------------------------------------------------

    async def stream(self, on: str, inputs: Any, options: PostOptions) -> AsyncGenerator[Response, None]:
        """The responses of one post, after their callbacks ran, in arrival (or request) order."""
        async with contextlib.aclosing(self._run_post(on, inputs, options)) as responses:
            async for response, _ok in responses:
                yield response

    async def collect(self, on: str, inputs: Any, options: PostOptions) -> DocList[Any] | list[Response] | None:
        """What the sync `post()` returns: None with callbacks, else the responses or all result docs."""
        responses: list[Response] = []
        docs: DocList[Any] = DocumentArray() if options.return_type is Document else DocList[options.return_type]()  # type: ignore[name-defined]
        async with contextlib.aclosing(self._run_post(on, inputs, options)) as answered:
            async for response, ok in answered:
                if options.has_callbacks:
                    continue
                if options.return_responses:
                    responses.append(response)
                elif ok:
                    docs.extend(response.docs)
        if options.has_callbacks:
            return None
        return responses if options.return_responses else docs

    async def _run_post(
        self, on: str, inputs: Any, options: PostOptions
    ) -> AsyncGenerator[tuple[Response, bool], None]:
        transport = await self.transport()
        total_requests = count_requests(inputs, options.request_size)  # None when unknown (a generator)
        template = RequestTemplate(
            endpoint=on,
            parameters=options.parameters,
            target_executor=options.target_executor or "",
            timeout=options.timeout or 0.0,
            compression=options.compression or "",
        )
        pipeline = RequestPipeline(
            transport,
            request_stream(inputs, options.request_size, template),
            PipelineOptions(
                prefetch=options.prefetch,
                timeout=options.timeout,
                retry=options.retry,
                results_in_order=options.results_in_order,
            ),
            ExchangeOptions(
                compression=options.compression,
                doc_type=options.return_type,
                timeout=options.timeout,
                single=total_requests == 1,
            ),
        )
        callbacks = CallbackRunner(options.on_done, options.on_error, options.on_always, options.continue_on_error)
        progress = PostProgress(on, total_requests) if options.show_progress else None
        with progress if progress is not None else contextlib.nullcontext():
            try:
                async with contextlib.aclosing(pipeline.responses()) as answered:
                    async for request, response in answered:
                        if progress is not None:
                            progress.advance(len(request.docs) if request is not None else 0)
                        ok = await callbacks.on_response(response)
                        yield response, ok
            except StreamFailed as failed:
                if options.on_error is None:
                    raise failed.error from failed.error.__cause__
                for request in failed.unanswered:
                    await callbacks.on_failure(_unanswered_response(request, options), failed.error)

    # -- discovery and GraphQL --------------------------------------------------------------

    async def dry_run(self, time_limit: float | None = None) -> bool:
        return await (await self.transport()).dry_run(time_limit)

    async def is_flow_ready(self, time_limit: float | None = None) -> bool:
        try:
            return await self.dry_run(time_limit)
        except FlowQLError:
            return False

    async def endpoints(self, time_limit: float | None = None) -> list[str]:
        return await (await self.transport()).endpoints(time_limit)

    async def mutate(
        self,
        mutation: str,
        variables: dict[str, Any] | None,
        time_limit: float | None,
        headers: dict[str, str] | None,
    ) -> dict[str, Any]:
        await self._bind_loop()
        url = self.settings.http_url("/graphql")
        return await graphql.execute(self.http(), url, mutation, variables, time_limit, headers, self.settings.address)

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> AsyncGenerator[dict[str, Any], None]:
        await self._bind_loop()
        all_headers = {**self.settings.headers, **(headers or {})}
        ssl_context = self.settings.ssl_context() if self.settings.tls else None
        url = self.settings.ws_url("/graphql")
        async with contextlib.aclosing(
            graphql.subscribe(url, query, variables, all_headers, ssl_context, self.settings.address)
        ) as events:
            async for event in events:
                yield event


def _unanswered_response(request: OutgoingRequest, options: PostOptions) -> Response:
    """What on_error gets for a request the gateway never answered: the request itself."""
    return Response(request.proto(), doc_type=options.return_type)
