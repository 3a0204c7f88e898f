"""`Client`: the blocking client (`Client(..., asyncio=True)` gives an `AsyncClient` instead)."""

from __future__ import annotations

import weakref
from collections.abc import Generator
from types import TracebackType
from typing import Any

from docarray import DocList

from flowql.client.async_client import AsyncClient
from flowql.client.callbacks import Callback
from flowql.client.core import ClientCore
from flowql.client.loop_thread import LoopThread
from flowql.client.options import PostOptions
from flowql.client.response import Response
from flowql.client.settings import ClientSettings

__all__ = ["Client"]


class Client:
    """Sends Documents to a Flow's gateway over gRPC, HTTP or WebSocket, and GraphQL to its `/graphql`.

    >>> client = Client(port=12345)                              # doctest: +SKIP
    >>> client.post('/upper', Document(text='hello')).texts       # doctest: +SKIP
    ['HELLO']
    >>> Client(host='https://my.flow:443').mutate('mutation { docs(data: {text: "a"}) { id } }')  # doctest: +SKIP

    The address: `host` may be a URI (`grpc://`, `grpcs://`, `http://`, `https://`, `ws://`,
    `wss://`, port included or not) or a name; `port`, `protocol` ('grpc' by default, 'http',
    'websocket') and `tls` as keywords, never saying something the URI already says otherwise.
    The default host 0.0.0.0 means this machine. `root_certificates` names a PEM file of CAs to
    trust for TLS; `headers` go with every call (gRPC metadata or HTTP headers).

    Coroutines run on a private event-loop thread that keeps the connection open between calls;
    `close()` it (or use `with`) when done. Callbacks run on that thread.
    """

    def __new__(cls, *args: Any, asyncio: bool = False, **kwargs: Any) -> Client:
        if asyncio:
            # The seeds' spelling for the async client; AsyncClient is not a Client subclass.
            return AsyncClient(*args, **kwargs)  # type: ignore[return-value]
        return super().__new__(cls)

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int | str | None = None,
        protocol: str | None = None,
        tls: bool | None = None,
        asyncio: bool = False,
        *,
        root_certificates: str | None = None,
        headers: dict[str, str] | None = None,
        port_expose: int | None = None,
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
        self._loop_thread = LoopThread()
        # A client dropped without close() still stops its thread.
        self._finalizer = weakref.finalize(self, self._loop_thread.close)

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

    def post(
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
        timeout: float | None = None,
        max_attempts: int = 1,
        initial_backoff: float = 0.5,
        max_backoff: float = 2,
        backoff_multiplier: float = 1.5,
        prefetch: int | None = None,
        return_type: Any = None,
        **kwargs: Any,
    ) -> DocList[Any] | list[Response] | None:
        """Send `inputs` to endpoint `on` in requests of `request_size` documents.

        `inputs`: a Document, a list / DocumentArray, a generator or iterable of documents, a
        function returning one, or None (one request with only `parameters`). They are read
        lazily: at most `prefetch` requests (default 1000; 0 = no bound) are in flight.

        Returns a DocumentArray of all result documents; with `return_responses=True` (alias
        `return_results`) the list of `Response`s; with any callback None. `on_done(response)`,
        `on_error(response, exception)` and `on_always(response)` run per response. An error
        response without `on_error` raises `flowql.ExecutorError` naming the executor, unless
        `continue_on_error` (which also keeps a raising callback from ending the post).
        `results_in_order` delivers responses in request order. `target_executor` (alias
        `target_peapod`) is a regex over executor names; `compression` 'Gzip' or 'Deflate';
        `timeout` bounds each request's wait (seconds). A gateway that is unavailable is retried
        up to `max_attempts` sends per request, waiting random(0, min(initial_backoff *
        backoff_multiplier ** (n - 1), max_backoff)) before retry n. `return_type` decodes
        results into another document class (or `DocList[...]`).
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
        return self._loop_thread.run(self._core.collect(on, inputs, options))

    def index(self, inputs: Any = None, **kwargs: Any) -> DocList[Any] | list[Response] | None:
        """`post('/index', ...)`."""
        return self.post("/index", inputs, **kwargs)

    def search(self, inputs: Any = None, **kwargs: Any) -> DocList[Any] | list[Response] | None:
        """`post('/search', ...)`."""
        return self.post("/search", inputs, **kwargs)

    def update(self, inputs: Any = None, **kwargs: Any) -> DocList[Any] | list[Response] | None:
        """`post('/update', ...)`."""
        return self.post("/update", inputs, **kwargs)

    def delete(self, inputs: Any = None, **kwargs: Any) -> DocList[Any] | list[Response] | None:
        """`post('/delete', ...)`."""
        return self.post("/delete", inputs, **kwargs)

    def dry_run(self, timeout: float | None = None) -> bool:
        """True when the gateway reports every executor reachable; raises if the gateway is not."""
        return self._loop_thread.run(self._core.dry_run(timeout))

    def is_flow_ready(self, timeout: float | None = None) -> bool:
        """Like `dry_run`, but False (never an exception) when the gateway cannot be reached."""
        return self._loop_thread.run(self._core.is_flow_ready(timeout))

    def endpoints(self, timeout: float | None = None) -> list[str]:
        """The endpoints the Flow's executors serve, sorted."""
        return self._loop_thread.run(self._core.endpoints(timeout))

    def mutate(
        self,
        mutation: str,
        variables: dict[str, Any] | None = None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL mutation (or query) at the gateway's `/graphql`; the response body dict.

        Raises `flowql.GraphQLResponseError` (with `.errors` and the partial `.data`) when the
        response carries errors. Works whatever this client's protocol, if the port serves HTTP.
        """
        return self._loop_thread.run(self._core.mutate(mutation, variables, timeout, headers))

    def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Generator[dict[str, Any], None, None]:
        """The payloads (`{"data": ..., "errors"?: ...}`) of a GraphQL subscription as they arrive.

        Breaking out of the `for` loop ends the subscription: `complete` is sent and the
        connection closed (when the iterator is garbage-collected or `.close()`d).
        """
        return self._loop_thread.iterate(self._core.subscribe(query, variables, headers))

    def close(self) -> None:
        """Close the connection and stop the loop thread; the client cannot be used afterwards."""
        try:
            if self._loop_thread.started:  # nothing was ever opened otherwise
                self._loop_thread.run(self._core.aclose())
        finally:
            self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client {self.settings.uri}>"
