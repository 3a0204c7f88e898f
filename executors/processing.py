"""`RequestProcessor`: what an executor worker does with one DataRequest, independent of gRPC.

- endpoint -> handler (its own, else the default, else pass the request through with its document
  bytes untouched, never decoded);
- documents decoded once, into the handler's declared input type;
- return value: None -> the (mutated) input docs; documents -> they replace the input; a dict ->
  `parameters['__results__'][<name>]` (`<name>/<shard_id>` when sharded);
- one Route appended per request; a handler exception becomes the request's error status;
- generator handlers: all yielded docs at once through `process`, one response each through `stream`
  (or, for a caller that asks for batches, what was yielded during each write: stream_pump.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from typing import Any

from docarray import BaseDoc, DocList

from flowql.codec import decode_docs, encode_docs
from flowql.executors.handlers import Handler, HandlerTable
from flowql.executors.stream_pump import ItemBuffer, encoded_chunks, pump_async, pump_sync
from flowql.executors.sync_runner import SyncCallRunner
from flowql.proto.flowql_pb2 import DataRequest, EndpointInfo, EndpointsInfo
from flowql.request import RESULTS_KEY, add_route, get_parameters, set_error, set_parameters

__all__ = ["RequestProcessor"]

# A batched stream response carries at most this many documents; the generator runs at most
# _STREAM_BUFFERED documents ahead of the writer.
_STREAM_BATCH = 256
_STREAM_BUFFERED = 2 * _STREAM_BATCH


class RequestProcessor:
    """Serves DataRequests with one Executor's handlers; one instance per worker."""

    def __init__(
        self,
        table: HandlerTable,
        *,
        name: str,
        shard_id: int = 0,
        shards: int = 1,
        replica_id: int = 0,
        runner: SyncCallRunner | None = None,
    ) -> None:
        self.table = table
        self.name = name
        self.shard_id = shard_id
        self.replica_id = replica_id
        self.address = ""
        self._results_key = f"{name}/{shard_id}" if shards > 1 else name
        self._runner = runner or SyncCallRunner()
        self._endpoints_info: EndpointsInfo | None = None

    async def process(self, request: DataRequest) -> DataRequest:
        """Handle `request` in place and return it (with its route, result or error status)."""
        start = time.time_ns()
        handler = self.table.lookup(request.header.exec_endpoint)
        if handler is not None:
            try:
                await self._handle(handler, request)
            except Exception as exc:
                set_error(request, self.name, exc)
        if request.branches:
            # The branches served this hop's merge; nothing downstream reads them.
            del request.branches[:]
        add_route(request, self.name, start, shard=self.shard_id, replica=self.replica_id, address=self.address)
        return request

    async def stream(self, request: DataRequest, *, batched: bool = False) -> AsyncIterator[DataRequest]:
        """The documents a generator handler yields, each sent as soon as the previous response is
        written; a failure ends the stream with an error response. Other endpoints: one response,
        as `process`.

        One response per document (stream_index = its position), unless `batched`: then each
        response carries every document yielded while the previous one was being written
        (stream_index = the position of its first), which a caller that splits them back (the
        gateway) asks for, as gRPC's cost is per message. The first document never waits."""
        handler = self.table.lookup(request.header.exec_endpoint)
        if handler is None or not handler.streaming:
            yield await self.process(request)
            return
        start = time.time_ns()
        index = 0
        error: Exception | None = None
        try:
            docs = decode_docs(request.docs, handler.input_type)
            arguments = self._arguments(handler, request, docs)
            if batched or handler.mode != "async_gen":
                pumped = self._pumped(handler, arguments, docs, _STREAM_BATCH if batched else 1)
                async with contextlib.aclosing(pumped):  # a caller leaving mid-stream stops the generator
                    async for items in pumped:
                        for data, count in encoded_chunks(items):
                            yield self._stream_item(request, data, index, start)
                            index += count
            else:
                # One message per document, written as yielded: nothing to gain from running ahead.
                async for item in self._iterate_async(handler, arguments, docs):
                    yield self._stream_item(request, encode_docs([item]), index, start)
                    index += 1
        except Exception as exc:
            error = exc
        if error is not None:
            failed = self._stream_item(request, b"", index, start)
            set_error(failed, self.name, error)
            yield failed

    async def _pumped(
        self, handler: Handler, arguments: dict[str, Any], docs: DocList[Any], limit: int
    ) -> AsyncGenerator[list[Any], None]:
        """The generator's items, run ahead in a producer task: each time, up to `limit` of what it
        yielded so far (waiting for one); its exception is raised after its last item."""
        buffer = ItemBuffer(_STREAM_BUFFERED)
        pump = asyncio.get_running_loop().create_task(self._pump(handler, arguments, docs, buffer))
        try:
            while items := await buffer.take(limit):
                yield items
        finally:
            buffer.close()
            if not pump.done():
                pump.cancel()  # the caller left mid-stream: stop the generator
        if buffer.error is not None:
            raise buffer.error

    async def _pump(self, handler: Handler, arguments: dict[str, Any], docs: DocList[Any], buffer: ItemBuffer) -> None:
        """Runs the generator (once per input doc when it takes `doc`) into `buffer`."""

        def check(item: Any) -> Any:
            return _checked_item(item, handler)

        try:
            for call_arguments in self._generator_calls(handler, arguments, docs):
                generator = handler.function(**call_arguments)
                if handler.mode == "async_gen":
                    await pump_async(generator, buffer, check)
                else:
                    await pump_sync(self._runner, generator, buffer, check)
                if buffer.closed:
                    break
        except Exception as exc:
            buffer.finish(exc)
        else:
            buffer.finish()

    @staticmethod
    def _generator_calls(handler: Handler, arguments: dict[str, Any], docs: DocList[Any]) -> Iterator[dict[str, Any]]:
        if not handler.per_doc:
            yield arguments
            return
        for doc in docs:
            yield {**arguments, "doc": doc} if handler.wants("doc") else arguments

    def endpoints_info(self) -> EndpointsInfo:
        """The declared endpoints with their document schemas (built once)."""
        if self._endpoints_info is None:
            info = EndpointsInfo(executor=self.name, has_default=self.table.default is not None)
            for endpoint, handler in self.table.endpoints().items():
                info.endpoints.append(_endpoint_info(endpoint, handler))
            self._endpoints_info = info
        return self._endpoints_info

    def close(self) -> None:
        self._runner.shutdown()

    async def _handle(self, handler: Handler, request: DataRequest) -> None:
        docs = decode_docs(request.docs, handler.input_type)
        arguments = self._arguments(handler, request, docs)
        if handler.streaming:
            # Everything at once: the same pump as a stream (sync generators run in slices on the
            # handler thread), taking as much as it has each time.
            async with contextlib.aclosing(self._pumped(handler, arguments, docs, _STREAM_BUFFERED)) as pumped:
                request.docs = encode_docs([item async for items in pumped for item in items])
            return
        if handler.mode == "async":
            result = await handler.function(**arguments)
        else:
            result = await self._runner.run(_call_with, handler.function, arguments)
        if result is None:
            request.docs = encode_docs(docs)
        elif isinstance(result, dict):
            # Docs stay the (possibly mutated) input; the dict is collected per executor (and shard).
            request.docs = encode_docs(docs)
            parameters = get_parameters(request)
            parameters.setdefault(RESULTS_KEY, {})[self._results_key] = result
            set_parameters(request, parameters)
        else:
            request.docs = encode_docs(_as_documents(result, handler))

    def _arguments(self, handler: Handler, request: DataRequest, docs: DocList[Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if handler.wants("docs"):
            arguments["docs"] = docs
        if handler.wants("parameters"):
            arguments["parameters"] = get_parameters(request)
        if handler.wants("docs_matrix") or handler.wants("docs_map"):
            matrix: list[DocList[Any]] | None = None
            docs_map: dict[str, DocList[Any]] | None = None
            if request.branches:
                matrix = [decode_docs(branch.docs, handler.input_type) for branch in request.branches]
                docs_map = {
                    branch.executor: branch_docs for branch, branch_docs in zip(request.branches, matrix, strict=True)
                }
            arguments["docs_matrix"] = matrix
            arguments["docs_map"] = docs_map
        return arguments

    async def _iterate_async(
        self, handler: Handler, arguments: dict[str, Any], docs: DocList[Any]
    ) -> AsyncIterator[Any]:
        """An async generator handler's items in this task, as yielded (no pump)."""
        for call_arguments in self._generator_calls(handler, arguments, docs):
            async for item in handler.function(**call_arguments):
                yield _checked_item(item, handler)

    def _stream_item(self, request: DataRequest, docs: bytes, index: int, start: int) -> DataRequest:
        item = DataRequest(docs=docs, parameters=request.parameters, stream_index=index)
        item.header.CopyFrom(request.header)
        item.routes.extend(request.routes)
        add_route(item, self.name, start, shard=self.shard_id, replica=self.replica_id, address=self.address)
        return item


def _call_with(function: Any, arguments: dict[str, Any]) -> Any:
    return function(**arguments)


def _checked_item(item: Any, handler: Handler) -> BaseDoc:
    if not isinstance(item, BaseDoc):
        raise TypeError(f"{handler.method_name} yielded {type(item).__name__}; a generator handler yields documents")
    return item


def _as_documents(result: Any, handler: Handler) -> Sequence[BaseDoc]:
    if isinstance(result, BaseDoc):
        return [result]
    if isinstance(result, list | tuple | DocList) and all(isinstance(doc, BaseDoc) for doc in result):
        return result
    raise TypeError(
        f"{handler.method_name} returned {type(result).__name__}; return None, documents (a DocList) or a dict"
    )


def _endpoint_info(endpoint: str, handler: Handler) -> EndpointInfo:
    return EndpointInfo(
        endpoint=endpoint,
        input_schema_name=handler.input_type.__name__,
        input_schema=_json_schema(handler.input_type),
        output_schema_name=handler.output_type.__name__,
        output_schema=_json_schema(handler.output_type),
        streaming=handler.streaming,
        description=handler.description,
    )


def _json_schema(doc_type: type[BaseDoc]) -> str:
    return json.dumps(doc_type.model_json_schema())
