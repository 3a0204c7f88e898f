"""`AsyncClient`: the client for code that runs in an event loop (`Client(..., asyncio=True)`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from types import TracebackType
from typing import Any

from flowql.client.callbacks import Callback
from flowql.client.core import ClientCore
from flowql.client.options import PostOptions
from flowql.client.response import Response
from flowql.client.settings import ClientSettings

__all__ = ["AsyncClient"]


class AsyncClient:
    """Sends requests to a Flow's gateway from async code; `post()` yields responses as they arrive.

    >>> async with AsyncClient(port=12345) as client:          # doctest: +SKIP
    ...     async for response in client.post('/index', async_docs(), request_size=10):
    ...         print(response.docs.texts)

    The connection (gRPC channel or HTTP pool) is opened on first use and reused; `aclose()` it
    (or use `async with`) when done.
    """

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int | str | None = None,
        protocol: str | None = None,
        tls: bool | None = None,
        *,
        root_certificates: str | None = None,
        headers: dict[str, str] | None = None,
        port_expose: int | None = None,
        asyncio: bool = True,
    ) -> None:
        settings = ClientSettings.from_arguments(
            host,
            port if port is not None else port_expose,
            protocol,
            tls,
            root_certificates=root_certificates,
            headers=headers,
        )
        self._core = ClientCore(settings)

    @property
    def settings(self) -> ClientSettings:
        return self._core.settings

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def protocol(self) -> str:
        return self.settings.protocol

    @property
    def tls(self) -> bool:
        return self.settings.tls

    async def post(
        self,
        on: str,
        inputs: Any = None,
        on_done: Callback | None = None,
        on_error: Callback | None = None,
        on_always: Callback | None = None,
        parameters: dict[str, Any] | None = None,
        target_executor: str | None = None,
        request_size: int = 100,
        show_progress: bool = False,
        continue_on_error: bool = False,
        return_responses: bool = False,
        results_in_order: bool = False,
        compression: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the seeds' post() signature)
        max_attempts: int = 1,
        initial_backoff: float = 0.5,
        max_backoff: float = 2,
        backoff_multiplier: float = 1.5,
        prefetch: int | None = None,
        return_type: Any = None,
        **kwargs: Any,
    ) -> AsyncGenerator[Response, None]:
        """Send `inputs` to endpoint `on`, yielding one `Response` per request as it is answered.

        Takes the same arguments as `Client.post` (and its callbacks, which run before each
        response is yielded); `inputs` may also be an async iterable or async generator function.
        `return_responses` is accepted for symmetry: the async client always yields responses.
        """
        options = PostOptions.build(
            kwargs,
            on_done=on_done,
            on_error=on_error,
            on_always=on_always,
            parameters=parameters,
            target_executor=target_executor,
            request_size=request_size,
            show_progress=show_progress,
            continue_on_error=continue_on_error,
            return_responses=return_responses,
            results_in_order=results_in_order,
            compression=compression,
            timeout=timeout,
            max_attempts=max_attempts,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            backoff_multiplier=backoff_multiplier,
            prefetch=prefetch,
            return_type=return_type,
        )
        async with aclosing(self._core.stream(on, inputs, options)) as responses:
            async for response in responses:
                yield response

    def index(self, inputs: Any = None, **kwargs: Any) -> AsyncGenerator[Response, None]:
        """`post('/index', ...)`."""
        return self.post("/index", inputs, **kwargs)

    def search(self, inputs: Any = None, **kwargs: Any) -> AsyncGenerator[Response, None]:
        """`post('/search', ...)`."""
        return self.post("/search", inputs, **kwargs)

    def update(self, inputs: Any = None, **kwargs: Any) -> AsyncGenerator[Response, None]:
        """`post('/update', ...)`."""
        return self.post("/update", inputs, **kwargs)

    def delete(self, inputs: Any = None, **kwargs: Any) -> AsyncGenerator[Response, None]:
        """`post('/delete', ...)`."""
        return self.post("/delete", inputs, **kwargs)

    async def dry_run(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (same API as Client)
        """True when the gateway reports every executor reachable; raises if the gateway is not."""
        return await self._core.dry_run(timeout)

    async def is_flow_ready(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Like `dry_run`, but False (never an exception) when the gateway cannot be reached."""
        return await self._core.is_flow_ready(timeout)

    async def endpoints(self, timeout: float | None = None) -> list[str]:  # noqa: ASYNC109
        """The endpoints the Flow's executors serve, sorted."""
        return await self._core.endpoints(timeout)

    async def mutate(
        self,
        mutation: str,
        variables: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the issue's mutate() signature)
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL mutation (or query) at the gateway's `/graphql`; the response body dict.

        Raises `flowql.GraphQLResponseError` (with `.errors` and the partial `.data`) when the
        response carries errors. Works whatever this client's protocol, if the port serves HTTP.
        """
        return await self._core.mutate(mutation, variables, timeout, headers)

    def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The payloads (`{"data": ..., "errors"?: ...}`) of a GraphQL subscription as they arrive.

        Over `graphql-transport-ws` on `/graphql`. Close it early with `aclose()` (or
        `contextlib.aclosing`) to stop the subscription on the server right away.
        """
        return self._core.subscribe(query, variables, headers)

    async def aclose(self) -> None:
        """Close the connection; the client cannot be used afterwards."""
        await self._core.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncClient {self.settings.uri}>"
