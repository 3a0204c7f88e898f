"""`ExecutorHop`: one executor of the graph, as the streamer calls it.

Chooses the shards per the polling mode of the request's endpoint (ANY: one, round-robin; ALL:
every shard, answers reduced; ALL_ASYNC: every shard, the first good answer returned), applies the
executor's `when` condition, and turns every failure into the request's error status naming the
executor. `send` never raises: the walk reads errors from the status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.topology import ExecutorNode

from .background import BackgroundTasks
from .request_merge import first_error, reduce_shards
from .rpc_errors import error_response
from .transport import ExecutorTransport
from .when_filter import merge_back, split_by_condition

__all__ = ["ExecutorHop"]


class ExecutorHop:
    """Sends requests to one executor's shards; every outcome comes back as a DataRequest."""

    def __init__(self, node: ExecutorNode, shards: Sequence[ExecutorTransport], background: BackgroundTasks) -> None:
        if not shards:
            raise ValueError(f"executor {node.name!r} has no shards")
        self.name = node.name
        self.node = node
        self.shards = list(shards)
        self._when: dict[str, Any] | None = node.when or None
        self._background = background
        self._next_shard = 0

    async def send(self, request: DataRequest) -> DataRequest:
        """The executor's response to `request`, or `request` with an error status naming it."""
        if self._when is None or not request.docs:
            # A request without documents (parameters only) has nothing to filter: it goes through.
            return await self._dispatch(request)
        return await self._send_when(request, self._when)

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        """Stream `request` through one shard's streaming endpoint; a failure ends the stream with an
        error response naming the executor."""
        transport = self.shards[self._pick_shard()]
        try:
            async for response in transport.stream(request):
                yield response
        except Exception as exc:  # every failure becomes the stream's last, error, response
            yield error_response(request, self.name, exc)

    async def _send_when(self, request: DataRequest, condition: dict[str, Any]) -> DataRequest:
        try:
            split = split_by_condition(request.docs, condition)
        except Exception as exc:  # a condition the documents cannot be tested with is the caller's error
            return error_response(request, self.name, exc)
        if split.matched_none:
            return request
        if split.matched_all:
            return await self._dispatch(request)
        subset = DataRequest()
        subset.CopyFrom(request)
        subset.docs = split.selected
        response = await self._dispatch(subset)
        if response.status.code == Status.ERROR:
            return response
        response.docs = merge_back(split, response.docs)
        return response

    def _pick_shard(self) -> int:
        index = self._next_shard % len(self.shards)
        self._next_shard += 1
        return index

    async def _dispatch(self, request: DataRequest) -> DataRequest:
        if len(self.shards) == 1:
            return await self._send_to(self.shards[0], request)
        mode = self.node.polling_for(request.header.exec_endpoint)
        if mode == "ANY":
            return await self._send_to(self.shards[self._pick_shard()], request)
        if mode == "ALL":
            responses = await asyncio.gather(*(self._send_to(shard, request) for shard in self.shards))
            return first_error(responses) or reduce_shards(responses)
        return await self._first_answer(request)

    async def _first_answer(self, request: DataRequest) -> DataRequest:
        # ALL_ASYNC: every shard gets the request; the caller gets the first good answer and the
        # other shards finish in the background.
        tasks = [asyncio.ensure_future(self._send_to(shard, request)) for shard in self.shards]
        failed: DataRequest | None = None
        try:
            for next_done in asyncio.as_completed(tasks):
                response = await next_done
                if response.status.code != Status.ERROR:
                    return response
                failed = failed or response
        finally:
            for task in tasks:
                if not task.done():
                    self._background.track(task)
        assert failed is not None
        return failed

    async def _send_to(self, transport: ExecutorTransport, request: DataRequest) -> DataRequest:
        try:
            return await transport.send(request)
        except Exception as exc:  # transport errors already name the executor and address
            return error_response(request, self.name, exc)
