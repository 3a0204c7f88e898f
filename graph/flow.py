"""`Flow` and `AsyncFlow`: build an executor graph, start it with `with f:`, send it documents.

>>> f = Flow(port=12345).add(name='p1', uses=A, needs='gateway').add(name='p2', uses=B, needs='gateway')
>>> f = f.needs(['p1', 'p2'], name='join')
>>> with f:
...     docs = f.post('/index', [Document(text='hi')])

Building is lazy: nothing starts until `with f:` (or `f.start()`); inside it the graph is frozen.
The two classes share everything but `post`: `Flow.post` blocks and returns results, `AsyncFlow.post`
is iterated with `async for`.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

from flowql.graph.flow_base import FloatingExecutorWarning, FlowBase, FlowState

__all__ = ["Flow", "AsyncFlow", "FloatingExecutorWarning", "FlowState"]


class Flow(FlowBase):
    """A graph of executors served by a gateway. `Flow(asyncio=True)` gives an `AsyncFlow`."""

    def __new__(cls, *args: Any, **options: Any) -> Any:
        if cls is Flow and options.get("asyncio"):
            return AsyncFlow(**options)
        return super().__new__(cls)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._client: Any = None

    def _get_client(self) -> Any:
        options = self._client_options()
        if self._client is None:
            from flowql.client import Client

            self._client = Client(**options)
        return self._client

    def _close_client(self) -> None:
        client, self._client = self._client, None
        close = getattr(client, "close", None)
        if callable(close):
            close()


class AsyncFlow(FlowBase):
    """A Flow whose `post` is iterated with `async for`; usable with `with` and `async with`."""

    is_async = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._client: Any = None

    async def __aenter__(self) -> Self:
        # Starting waits on processes; keep the event loop free meanwhile.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The async client's channels live on this event loop: close them here, before the processes go.
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        await asyncio.to_thread(self.close)

    def _get_client(self) -> Any:
        options = self._client_options()
        if self._client is None:
            from flowql.client import AsyncClient

            self._client = AsyncClient(**options)
        return self._client

    def _close_client(self) -> None:
        # An async client's channels belong to the event loop that used them; they close with it.
        self._client = None
