"""`DocsResolvers`: what the document fields' resolvers do, shared by every generated field.

Turning input documents into request batches, sending them through the streamer, and turning the
answers back into GraphQL results: a list for a mutation (failed batches reported as errors
beside the others' documents), one event per batch or per generated document for a subscription.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from flowql._exceptions import TransportError
from flowql.app.doc_schema import DocSchema
from flowql.app.doc_wire import InputError, decode_lazy, encode_dicts, prepare_docs
from flowql.app.docs_batches import DocsCall
from flowql.app.graphql_errors import ErrorSink, bad_input, executor_error, transport_error
from flowql.app.graphql_types import TypeRegistry, input_to_dict
from flowql.app.metrics import GatewayMetrics
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import EndpointView, ExecutorView, StreamerAPI
from flowql.request import error_of, new_request

__all__ = ["DocsResolvers", "DEFAULT_REQUEST_SIZE"]

DEFAULT_REQUEST_SIZE = 100


@dataclass
class DocsResolvers:
    """What every resolver needs: the streamer, settings and where partial errors go."""

    streamer: StreamerAPI
    settings: GatewaySettings
    sink: ErrorSink
    metrics: GatewayMetrics | None
    endpoints: list[EndpointView]
    executors: list[ExecutorView]
    generic: DocSchema
    registry: TypeRegistry
    field_names: dict[str, str] = field(default_factory=dict)  # endpoint -> its own field
    type_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # endpoint -> (input, output) types

    @property
    def observe(self) -> Callable[[Any], None] | None:
        return self.metrics.observe_response if self.metrics is not None else None

    def check_endpoint(self, endpoint: str) -> None:
        known = {view.endpoint for view in self.endpoints}
        # Only refuse when discovery saw every executor and none has a catch-all handler:
        # otherwise an endpoint nobody declares still reaches a default handler (or passes through).
        if not known or not self.executors:
            return
        if any(ex.has_default or not ex.endpoints for ex in self.executors):  # a default, or not discovered
            return
        if endpoint not in known:
            raise bad_input(
                f"unknown endpoint {endpoint!r}; the Flow serves {sorted(known)}",
                endpoint=endpoint,
            )

    def to_docs(self, data: list[Any] | None, schema: DocSchema) -> list[dict[str, Any]]:
        try:
            return prepare_docs((input_to_dict(item, schema) for item in data or ()), schema)
        except InputError as exc:
            raise bad_input(str(exc)) from None

    def call(
        self,
        endpoint: str,
        docs: list[dict[str, Any]],
        schema: DocSchema,
        parameters: Any,
        target_executor: str | None,
        request_size: int | None,
    ) -> DocsCall:
        if parameters is not None and not isinstance(parameters, dict):
            raise bad_input("parameters must be a JSON object")
        if request_size is not None and request_size < 1:
            raise bad_input(f"requestSize must be at least 1, got {request_size}")
        return DocsCall(
            endpoint=endpoint,
            docs=docs,
            schema=schema,
            parameters=parameters,
            target_executor=target_executor or "",
            request_size=request_size or DEFAULT_REQUEST_SIZE,
            window=max(0, self.settings.prefetch),
            observe=self.observe,
        )

    async def run_mutation(self, call: DocsCall) -> list[Any]:
        docs: list[Any] = []
        for outcome in await call.run_all(self.streamer.process):
            if outcome.error is not None:
                self.sink.add(outcome.error)
            else:
                docs.extend(outcome.docs)
        return docs

    async def run_batches(self, call: DocsCall) -> AsyncGenerator[Any, None]:
        done = 0
        async with contextlib.aclosing(call.run(self.streamer.process)) as outcomes:  # type: ignore[type-var]
            async for outcome in outcomes:
                done += 1
                progress = {"done": done, "total": outcome.total}
                if outcome.error is not None:
                    outcome.error.extensions = {**(outcome.error.extensions or {}), "progress": progress}
                    yield outcome.error
                else:
                    yield {"docs": outcome.docs, "progress": progress, "batch": outcome.index}

    async def run_stream(
        self, endpoint: str, docs: list[dict[str, Any]], schema: DocSchema, parameters: Any, target: str | None
    ) -> AsyncGenerator[Any, None]:
        if parameters is not None and not isinstance(parameters, dict):
            raise bad_input("parameters must be a JSON object")
        request = new_request(
            endpoint, docs=encode_dicts(docs, schema), parameters=parameters, target_executor=target or ""
        )
        stream = self.streamer.stream(request)
        try:
            async for response in stream:
                # One observation per stream (its first message) and every error: per-message
                # timings of a generator say nothing more, and this runs once per event.
                if self.metrics is not None and (response.stream_index == 0 or response.status.code):
                    self.metrics.observe_response(response)
                error = error_of(response)
                if error is not None:
                    yield executor_error(error, [str(doc.get("id", "")) for doc in docs])
                    return
                for doc in decode_lazy(response.docs):
                    yield doc
        except TransportError as exc:  # the executor went away mid-stream: say so, do not mask it
            yield transport_error(exc, [str(doc.get("id", "")) for doc in docs])
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
