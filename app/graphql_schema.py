"""The gateway's GraphQL schema, built at start from the Flow's endpoints.

- `docs(data, execEndpoint = "/", targetExecutor, parameters, requestSize)` on Query, Mutation and
  Subscription works with the default `Document` type (the shape Jina's GraphQL gateway had);
  `parameters` is a JSON object literal or variable.
- Each endpoint whose handler declares its own document types gets fields named from its path
  (`/upper` -> `upper`, `/foo/bar` -> `fooBar`): a Mutation returning `[<Out>!]!` and a
  Subscription streaming one `<Field>Event` per request batch. A streaming (generator) endpoint,
  typed or not, gets a Subscription field emitting each document as the generator yields it.
  Two endpoints that map to one name fail the start with a message naming both.
- Query `executors`, `edges`, `endpoints`, `health` describe the running Flow.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from flowql._exceptions import ConfigurationError
from flowql.app.doc_schema import DocSchema, compile_schema, default_document_schema
from flowql.app.doc_wire import InputError, decode_lazy, encode_dicts, prepare_docs
from flowql.app.docs_batches import DocsCall
from flowql.app.graphql_errors import ErrorSink, bad_input, executor_error, log_nothing
from flowql.app.graphql_extension import ExtensionConfig, GatewayExtension
from flowql.app.graphql_flow_types import EdgeInfo, EndpointInfo, ExecutorInfo, GatewayHealth, Progress
from flowql.app.graphql_limits import limit_rules, token_limit
from flowql.app.graphql_types import TypeRegistry, input_to_dict, list_of, read_field
from flowql.app.metrics import GatewayMetrics
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import EndpointView, ExecutorView, StreamerAPI, field_name_for, read_executors
from flowql.request import error_of, new_request

__all__ = ["GatewaySchema", "build_schema"]

DEFAULT_REQUEST_SIZE = 100


class GatewaySchema(strawberry.Schema):
    """strawberry's Schema, logging only unexpected errors (with their request id)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_nothing(errors, execution_context)


@dataclass
class _Resolvers:
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
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()


_Endpoint = Annotated[str, strawberry.argument(description='The endpoint to call, e.g. "/index".')]
_Target = Annotated[
    str | None, strawberry.argument(description="A regular expression: only matching executors process the request.")
]
_Parameters = Annotated[JSON | None, strawberry.argument(description="A JSON object handed to the executors.")]
_RequestSize = Annotated[
    int | None, strawberry.argument(description=f"Documents per request batch (default {DEFAULT_REQUEST_SIZE}).")
]


def _generic_fields(r: _Resolvers) -> tuple[Any, Any]:
    """The resolver functions of the generic `docs` field (query/mutation) and its subscription."""
    doc_input = r.registry.input(r.generic)
    doc_output = r.registry.output(r.generic)
    event = _event_type("DocsEvent", doc_output)

    async def docs(
        info: Info,
        data: Any = None,
        exec_endpoint: _Endpoint = "/",
        target_executor: _Target = None,
        parameters: _Parameters = None,
        request_size: _RequestSize = None,
    ) -> Any:
        r.check_endpoint(exec_endpoint)
        call = r.call(exec_endpoint, r.to_docs(data, r.generic), r.generic, parameters, target_executor, request_size)
        return await r.run_mutation(call)

    async def docs_events(
        info: Info,
        data: Any = None,
        exec_endpoint: _Endpoint = "/",
        target_executor: _Target = None,
        parameters: _Parameters = None,
        request_size: _RequestSize = None,
    ) -> AsyncGenerator[Any, None]:
        r.check_endpoint(exec_endpoint)
        call = r.call(exec_endpoint, r.to_docs(data, r.generic), r.generic, parameters, target_executor, request_size)
        async for item in r.run_batches(call):
            yield item

    data_arg = _documents_argument(doc_input, optional=True)
    docs.__annotations__.update(data=data_arg, **{"return": list_of(doc_output)})
    docs_events.__annotations__.update(data=data_arg, **{"return": _stream_of(event)})
    return docs, docs_events


def _graphql_name(cls: type) -> str:
    definition = getattr(cls, "__strawberry_definition__", None)
    return str(definition.name) if definition is not None else cls.__name__


def _stream_of(item: Any) -> Any:
    """`AsyncGenerator[item, None]` for a type made at run time (a subscription's return type)."""
    generator: Any = AsyncGenerator
    return generator[item, None]


def _documents_argument(doc_input: Any, *, optional: bool = False) -> Any:
    """The annotation of a `data` argument: a list of `doc_input` (made at run time)."""
    annotated: Any = Annotated
    inner = list_of(doc_input) | None if optional else list_of(doc_input)
    return annotated[inner, strawberry.argument(description="The documents to send.")]


def _event_type(name: str, doc_output: type) -> type:
    cls = type(name, (), {"__module__": __name__})
    cls.__annotations__ = {"docs": list_of(doc_output), "progress": Progress, "batch": int}
    cls.docs = strawberry.field(description="The documents of this batch, as processed.")  # type: ignore[attr-defined]
    cls.progress = strawberry.field(description="Batches done (this one included) out of the total.")  # type: ignore[attr-defined]
    cls.batch = strawberry.field(description="Index of this batch in the input (they finish in any order).")  # type: ignore[attr-defined]
    return strawberry.type(cls, name=name, description="One processed request batch of a subscription.")


def _typed_fields(r: _Resolvers, view: EndpointView, name: str) -> dict[str, tuple[str, Any]]:
    """Mutation and Subscription resolvers of one typed endpoint, keyed by operation type."""
    in_schema = compile_schema(view.input_schema, view.input_schema_name)
    out_schema = compile_schema(view.output_schema, view.output_schema_name)
    doc_input = r.registry.input(in_schema)
    doc_output = r.registry.output(out_schema)
    endpoint = view.endpoint
    r.type_names[endpoint] = (_graphql_name(doc_input), _graphql_name(doc_output))
    description = view.description or f"Calls {endpoint} on {', '.join(view.executors) or 'the Flow'}."

    async def mutate(
        info: Info,
        data: Any,
        target_executor: _Target = None,
        parameters: _Parameters = None,
        request_size: _RequestSize = None,
    ) -> Any:
        call = r.call(endpoint, r.to_docs(data, in_schema), in_schema, parameters, target_executor, request_size)
        return await r.run_mutation(call)

    async def batches(
        info: Info,
        data: Any,
        target_executor: _Target = None,
        parameters: _Parameters = None,
        request_size: _RequestSize = None,
    ) -> AsyncGenerator[Any, None]:
        call = r.call(endpoint, r.to_docs(data, in_schema), in_schema, parameters, target_executor, request_size)
        async for item in r.run_batches(call):
            yield item

    data_arg = _documents_argument(doc_input)
    mutate.__annotations__.update(data=data_arg, **{"return": list_of(doc_output)})
    fields: dict[str, tuple[str, Any]] = {"mutation": (description, mutate)}
    if not view.streaming:
        event = _event_type(name[:1].upper() + name[1:] + "Event", doc_output)
        batches.__annotations__.update(data=data_arg, **{"return": _stream_of(event)})
        fields["subscription"] = (description + " One event per request batch.", batches)
    return fields


def _streaming_field(r: _Resolvers, view: EndpointView) -> tuple[str, Any]:
    """The Subscription resolver of a generator endpoint: one event per yielded document."""
    typed = view.typed
    in_schema = compile_schema(view.input_schema, view.input_schema_name) if typed else r.generic
    out_schema = compile_schema(view.output_schema, view.output_schema_name) if typed else r.generic
    doc_input = r.registry.input(in_schema)
    doc_output = r.registry.output(out_schema)
    endpoint = view.endpoint
    r.type_names[endpoint] = (_graphql_name(doc_input), _graphql_name(doc_output))

    async def generate(
        info: Info, data: Any, target_executor: _Target = None, parameters: _Parameters = None
    ) -> AsyncGenerator[Any, None]:
        docs = r.to_docs(data, in_schema)
        async for item in r.run_stream(endpoint, docs, in_schema, parameters, target_executor):
            yield item

    data_arg = _documents_argument(doc_input)
    generate.__annotations__.update(data=data_arg, **{"return": _stream_of(doc_output)})
    description = (view.description or f"Streams {endpoint}.") + " One event per document, as it is produced."
    return description, generate


def _flow_fields(r: _Resolvers, topology: Any) -> dict[str, Any]:
    async def executors() -> list[ExecutorInfo]:
        views = await read_executors(r.streamer)
        return [vars(view) for view in views]  # type: ignore[misc]

    def edges() -> list[EdgeInfo]:
        pairs = list(getattr(topology, "edges", None) or ())
        return [{"source": source, "target": target} for source, target in pairs]  # type: ignore[misc]

    def endpoints() -> list[EndpointInfo]:
        result = []
        for view in r.endpoints:
            result.append(
                {
                    "endpoint": view.endpoint,
                    "executors": view.executors,
                    "input_type": r.type_names.get(view.endpoint, ("DocumentInput", "Document"))[0],
                    "output_type": r.type_names.get(view.endpoint, ("DocumentInput", "Document"))[1],
                    "streaming": view.streaming,
                    "field": r.field_names.get(view.endpoint),
                    "description": view.description or None,
                }
            )
        return result  # type: ignore[return-value]

    async def health() -> GatewayHealth:
        reachable = await r.streamer.dry_run()
        return {  # type: ignore[return-value]
            "ok": all(reachable.values()),
            "executors": [{"name": name, "reachable": ok} for name, ok in reachable.items()],
        }

    return {
        "executors": strawberry.field(resolver=executors, description="The executors of the running Flow."),
        "edges": strawberry.field(resolver=edges, description="The edges of the Flow graph."),
        "endpoints": strawberry.field(resolver=endpoints, description="The endpoints the Flow serves."),
        "health": strawberry.field(resolver=health, description="Whether the gateway and its executors answer."),
    }


class _Fields:
    """Root fields by name, refusing two owners for one name."""

    def __init__(self) -> None:
        self.owner: dict[tuple[str, str], str] = {}
        self.fields: dict[str, dict[str, Any]] = {"query": {}, "mutation": {}, "subscription": {}}
        self.resolvers: dict[tuple[str, str], Callable[..., Any]] = {}

    def add(
        self, operation: str, name: str, owner: str, value: Any, resolver: Callable[..., Any] | None = None
    ) -> None:
        key = (operation, name)
        if key in self.owner:
            raise ConfigurationError(
                f"GraphQL field {operation}.{name} is claimed by both {self.owner[key]} and {owner}; "
                "rename one of the endpoints"
            )
        self.owner[key] = owner
        self.fields[operation][name] = value
        if resolver is not None:
            self.resolvers[key] = resolver

    def root(self, operation: str) -> type | None:
        if not self.fields[operation]:
            return None
        cls = type(operation.capitalize(), (), {"__module__": __name__, **self.fields[operation]})
        return strawberry.type(cls, name=operation.capitalize())

    def install_raw_resolvers(self, schema: GatewaySchema) -> None:
        """Let graphql-core call the document fields' resolvers with its coerced arguments.

        strawberry would first turn every input document into an instance of its input class
        (about a third of a single-document mutation's time); the resolvers read plain dicts as
        well (`graphql_types.input_to_dict`), so the conversion is skipped. The strawberry
        declarations still define the fields' types, arguments and descriptions.
        """
        for (operation, name), resolver in self.resolvers.items():
            root = schema._schema.get_type(operation.capitalize())
            field = root.fields[name]  # type: ignore[union-attr]
            python_names = {to_camel_case(p): p for p in inspect.signature(resolver).parameters if p != "info"}
            if operation == "subscription":
                field.subscribe = _raw_subscribe(resolver, python_names)
            else:
                field.resolve = _raw_resolve(resolver, python_names)


def _raw_resolve(resolver: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    async def resolve(root: Any, info: Any, **arguments: Any) -> Any:
        return await resolver(info, **{names[key]: value for key, value in arguments.items()})

    return resolve


def _raw_subscribe(resolver: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    def subscribe(root: Any, info: Any, **arguments: Any) -> Any:
        return resolver(info, **{names[key]: value for key, value in arguments.items()})

    return subscribe


def build_schema(
    streamer: StreamerAPI,
    settings: GatewaySettings,
    endpoints: list[EndpointView],
    executors: list[ExecutorView] | None = None,
    *,
    metrics: GatewayMetrics | None = None,
) -> GatewaySchema:
    """Build the schema for `endpoints`; raises ConfigurationError when two endpoints map to one field."""
    sink = ErrorSink()
    r = _Resolvers(
        streamer=streamer,
        settings=settings,
        sink=sink,
        metrics=metrics,
        endpoints=endpoints,
        executors=executors or [],
        generic=default_document_schema(),
        registry=TypeRegistry(),
    )
    roots = _Fields()
    docs, docs_events = _generic_fields(r)
    generic_owner = "the generic `docs` field"
    roots.add("query", "docs", generic_owner, strawberry.field(resolver=docs, description=_DOCS_HELP), docs)
    roots.add("mutation", "docs", generic_owner, strawberry.mutation(resolver=docs, description=_DOCS_HELP), docs)
    roots.add(
        "subscription",
        "docs",
        generic_owner,
        strawberry.subscription(resolver=docs_events, description=_DOCS_HELP + " One event per request batch."),
        docs_events,
    )
    for name, value in _flow_fields(r, getattr(streamer, "topology", None)).items():
        roots.add("query", name, "the Flow description", value)
    for view in endpoints:
        name = field_name_for(view.endpoint)
        if not name or not (view.typed or view.streaming):
            continue
        owner = f"endpoint {view.endpoint!r}"
        if view.typed:
            for operation, (description, resolver) in _typed_fields(r, view, name).items():
                make = strawberry.mutation if operation == "mutation" else strawberry.subscription
                roots.add(operation, name, owner, make(resolver=resolver, description=description), resolver)
        if view.streaming:
            description, resolver = _streaming_field(r, view)
            field = strawberry.subscription(resolver=resolver, description=description)
            roots.add("subscription", name, owner, field, resolver)
        r.field_names[view.endpoint] = name
    extension_config = ExtensionConfig.build(sink, limit_rules(settings), token_limit(settings))
    schema = GatewaySchema(
        query=roots.root("query"),  # type: ignore[arg-type]
        mutation=roots.root("mutation"),
        subscription=roots.root("subscription"),
        config=StrawberryConfig(default_resolver=read_field),
        extensions=[lambda: GatewayExtension(extension_config)],
    )
    roots.install_raw_resolvers(schema)
    return schema


_DOCS_HELP = (
    "Send documents of the default Document type to an endpoint and get them back processed. "
    "Failed batches come back as errors naming the executor; the other batches' documents are kept."
)
