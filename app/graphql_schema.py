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

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from flowql.app.doc_schema import default_document_schema
from flowql.app.graphql_errors import ErrorSink, log_nothing
from flowql.app.graphql_extension import ExtensionConfig, GatewayExtension
from flowql.app.graphql_flow_types import EdgeInfo, EndpointInfo, ExecutorInfo, GatewayHealth, Progress
from flowql.app.graphql_limits import limit_rules, token_limit
from flowql.app.graphql_resolvers import DEFAULT_REQUEST_SIZE, DocsResolvers
from flowql.app.graphql_roots import RootFields
from flowql.app.graphql_types import TypeRegistry, list_of, read_field
from flowql.app.metrics import GatewayMetrics
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import (
    EndpointView,
    ExecutorView,
    StreamerAPI,
    field_name_for,
    read_executors,
    served_view,
)

__all__ = ["GatewaySchema", "build_schema"]


class GatewaySchema(strawberry.Schema):
    """strawberry's Schema, logging only unexpected errors (with their request id)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_nothing(errors, execution_context)


_Endpoint = Annotated[str, strawberry.argument(description='The endpoint to call, e.g. "/index".')]
_Target = Annotated[
    str | None, strawberry.argument(description="A regular expression: only matching executors process the request.")
]
_Parameters = Annotated[JSON | None, strawberry.argument(description="A JSON object handed to the executors.")]
_RequestSize = Annotated[
    int | None, strawberry.argument(description=f"Documents per request batch (default {DEFAULT_REQUEST_SIZE}).")
]


def _generic_fields(r: DocsResolvers) -> tuple[Any, Any]:
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


def _typed_fields(r: DocsResolvers, view: EndpointView, name: str) -> dict[str, tuple[str, Any]]:
    """Mutation and Subscription resolvers of one typed endpoint, keyed by operation type."""
    in_schema = view.input_doc_schema
    out_schema = view.output_doc_schema
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


def _streaming_field(r: DocsResolvers, view: EndpointView) -> tuple[str, Any]:
    """The Subscription resolver of a generator endpoint: one event per yielded document."""
    typed = view.typed
    in_schema = view.input_doc_schema if typed else r.generic
    out_schema = view.output_doc_schema if typed else r.generic
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


def _flow_fields(r: DocsResolvers, topology: Any) -> dict[str, Any]:
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
    r = DocsResolvers(
        streamer=streamer,
        settings=settings,
        sink=sink,
        metrics=metrics,
        endpoints=endpoints,
        executors=executors or [],
        generic=default_document_schema(),
        registry=TypeRegistry(_RESERVED_NAMES),
    )
    roots = RootFields()
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
        view = served_view(view)
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


_RESERVED_NAMES = frozenset(
    {
        "Query",
        "Mutation",
        "Subscription",
        "JSON",
        "Base64",
        "Progress",
        "DocsEvent",
        "ExecutorInfo",
        "EdgeInfo",
        "EndpointInfo",
        "ExecutorHealth",
        "GatewayHealth",
        "String",
        "Int",
        "Float",
        "Boolean",
        "ID",
    }
)


_DOCS_HELP = (
    "Send documents of the default Document type to an endpoint and get them back processed. "
    "Failed batches come back as errors naming the executor; the other batches' documents are kept."
)
