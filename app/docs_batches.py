"""Sending documents through the streamer in request batches, as GraphQL fields need them.

A GraphQL call carries documents as dicts. `DocsCall` splits them into batches of `request_size`,
encodes each batch just before it is sent, keeps at most `window` batches in flight, and yields
each batch's outcome as soon as it is done (completion order, with its index). Leaving the
iteration early (a subscriber went away) cancels the batches in flight and sends no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from flowql.app.doc_schema import DocSchema
from flowql.app.doc_wire import decode_lazy, encode_dicts
from flowql.app.graphql_errors import executor_error
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import error_of, new_request

__all__ = ["DocsCall", "BatchOutcome"]


@dataclass
class BatchOutcome:
    """One processed batch: its documents, or the error that stopped it."""

    index: int
    total: int
    docs: list[Any] = field(default_factory=list)  # LazyDoc: read by the GraphQL resolvers
    error: GraphQLError | None = None


@dataclass
class DocsCall:
    """One GraphQL call's documents on their way to one endpoint."""

    endpoint: str
    docs: list[dict[str, Any]]
    schema: DocSchema
    parameters: dict[str, Any] | None = None
    target_executor: str = ""
    request_size: int = 100
    window: int = 0  # batches in flight at once; 0 means all
    observe: Callable[[DataRequest], None] | None = None

    def batches(self) -> list[list[dict[str, Any]]]:
        if not self.docs:
            return [[]]  # a parameters-only request still reaches the executors
        size = max(1, self.request_size)
        return [self.docs[start : start + size] for start in range(0, len(self.docs), size)]

    def request_for(self, batch: list[dict[str, Any]]) -> DataRequest:
        return new_request(
            self.endpoint,
            docs=encode_dicts(batch, self.schema),
            parameters=self.parameters,
            target_executor=self.target_executor,
        )

    def outcome(self, index: int, total: int, batch: list[dict[str, Any]], response: DataRequest) -> BatchOutcome:
        if self.observe is not None:
            self.observe(response)
        error = error_of(response)
        if error is not None:
            ids = [str(doc.get("id", "")) for doc in batch]
            return BatchOutcome(index, total, error=executor_error(error, ids))
        return BatchOutcome(index, total, docs=decode_lazy(response.docs))

    async def run(self, process: Callable[[DataRequest], Any]) -> AsyncIterator[BatchOutcome]:
        """Yield each batch's outcome as it completes."""
        batches = self.batches()
        total = len(batches)
        window = self.window if self.window > 0 else total
        pending: dict[asyncio.Task[DataRequest], int] = {}
        next_index = 0
        try:
            while next_index < total or pending:
                while next_index < total and len(pending) < window:
                    request = self.request_for(batches[next_index])
                    pending[asyncio.ensure_future(process(request))] = next_index
                    next_index += 1
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    index = pending.pop(task)
                    yield self.outcome(index, total, batches[index], task.result())
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def run_all(self, process: Callable[[DataRequest], Any]) -> list[BatchOutcome]:
        """All outcomes, in batch order."""
        if len(self.docs) <= self.request_size:
            # One batch: no tasks, no waiting sets (the common single-call fast path).
            batch = self.docs
            return [self.outcome(0, 1, batch, await process(self.request_for(batch)))]
        outcomes = [outcome async for outcome in self.run(process)]
        return sorted(outcomes, key=lambda outcome: outcome.index)
