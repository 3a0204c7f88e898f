"""What the HTTP/GraphQL side needs from the streamer, and its answers read into plain records.

The Starlette app only ever talks to the streamer through `StreamerAPI` (the contract's
`process`, `stream`, `endpoints`, `dry_run`, `executors`, plus `topology`). The streamer's own
record types may grow fields; `read_endpoints` and `read_executors` take what the app uses from
either attributes or mapping keys, so the two sides can evolve without lock-step changes.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from flowql.app.doc_schema import DocSchema, compile_schema
from flowql.proto.flowql_pb2 import DataRequest

__all__ = [
    "StreamerAPI",
    "EndpointView",
    "ExecutorView",
    "read_endpoints",
    "read_executors",
    "field_name_for",
    "served_view",
]

logger = logging.getLogger("flowql.gateway")


class StreamerAPI(Protocol):
    """The streamer as the app uses it (see app/streamer.py for the real one)."""

    async def process(self, request: DataRequest) -> DataRequest: ...

    def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]: ...

    async def endpoints(self) -> Sequence[Any]: ...

    async def dry_run(self) -> dict[str, bool]: ...

    def executors(self) -> Any: ...


@dataclass
class EndpointView:
    """One endpoint of the Flow, merged over the executors that declare it."""

    endpoint: str
    executors: list[str] = field(default_factory=list)
    input_schema_name: str = "Document"
    input_schema: str = ""
    output_schema_name: str = "Document"
    output_schema: str = ""
    streaming: bool = False
    description: str = ""

    @property
    def typed(self) -> bool:
        """True when the handler declares its own document types (it then gets its own fields)."""
        return bool(self.input_schema and self.output_schema) and (
            self.input_schema_name not in ("", "Document") or self.output_schema_name not in ("", "Document")
        )

    @functools.cached_property
    def input_doc_schema(self) -> DocSchema:
        """The input document type, compiled from `input_schema` (once, for HTTP and GraphQL alike)."""
        return compile_schema(self.input_schema, self.input_schema_name)

    @functools.cached_property
    def output_doc_schema(self) -> DocSchema:
        """The output document type, compiled from `output_schema`."""
        return compile_schema(self.output_schema, self.output_schema_name)


@dataclass
class ExecutorView:
    """One executor of the Flow as the GraphQL `executors` query shows it."""

    name: str
    endpoints: list[str] = field(default_factory=list)
    replicas: int = 1
    shards: int = 1
    polling: dict[str, str] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    health: str = "UNKNOWN"
    has_default: bool = False


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _as_json_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else json.dumps(value)


async def read_endpoints(streamer: StreamerAPI) -> list[EndpointView]:
    """The streamer's endpoint list as `EndpointView`s (sorted by endpoint path). An endpoint whose
    document schemas cannot be compiled is logged and served untyped, over HTTP and GraphQL alike."""
    views = []
    for record in await streamer.endpoints():
        executors = _get(record, "executors")
        if executors is None:
            single = _get(record, "executor")
            executors = [single] if single else []
        views.append(
            EndpointView(
                endpoint=str(_get(record, "endpoint", "")),
                executors=[str(name) for name in executors],
                input_schema_name=str(_get(record, "input_schema_name", "") or "Document"),
                input_schema=_as_json_text(_get(record, "input_schema")),
                output_schema_name=str(_get(record, "output_schema_name", "") or "Document"),
                output_schema=_as_json_text(_get(record, "output_schema")),
                streaming=bool(_get(record, "streaming", False)),
                description=str(_get(record, "description", "") or ""),
            )
        )
    return sorted((served_view(view) for view in views), key=lambda view: view.endpoint)


def served_view(view: EndpointView) -> EndpointView:
    """`view`, or the untyped (Document) view of its endpoint when its document schemas cannot be read."""
    if not view.typed:
        return view
    try:
        view.input_doc_schema, view.output_doc_schema  # noqa: B018 - compiled here to find out
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("endpoint %s: document schema not understood (%s); serving it with Document", view.endpoint, exc)
        return replace(view, input_schema_name="Document", output_schema_name="Document")
    return view


async def read_executors(streamer: StreamerAPI) -> list[ExecutorView]:
    """The streamer's executor descriptions as `ExecutorView`s (awaited when the streamer is async)."""
    records = streamer.executors()
    if inspect.isawaitable(records):
        records = await records
    if isinstance(records, Mapping):
        records = [
            {"name": name, **dict(value)} if isinstance(value, Mapping) else value for name, value in records.items()
        ]
    views = []
    for record in records or ():
        health = _get(record, "health", "UNKNOWN")
        if isinstance(health, bool):
            health = "SERVING" if health else "NOT_SERVING"
        elif isinstance(health, Mapping):  # per replica address -> serving
            health = "SERVING" if health and all(health.values()) else "NOT_SERVING"
        shards = _get(record, "shards", 1)
        replicas = _get(record, "replicas", 1)
        views.append(
            ExecutorView(
                name=str(_get(record, "name", "")),
                endpoints=[str(endpoint) for endpoint in _get(record, "endpoints", None) or ()],
                replicas=int(replicas if isinstance(replicas, int) else len(replicas or [[]])),
                shards=int(shards if isinstance(shards, int) else len(shards or [[]])),
                polling={str(k): str(v) for k, v in dict(_get(record, "polling", None) or {}).items()},
                needs=[str(need) for need in _get(record, "needs", None) or ()],
                health=str(health),
                has_default=bool(_get(record, "has_default", False)),
            )
        )
    return views


def field_name_for(endpoint: str) -> str:
    """The GraphQL field name of an endpoint path: `/upper` -> `upper`, `/foo/bar` -> `fooBar`."""
    words = [word for word in re.split(r"[^0-9A-Za-z]+", endpoint) if word]
    if not words:
        return ""
    name = words[0][:1].lower() + words[0][1:] + "".join(word[:1].upper() + word[1:] for word in words[1:])
    return "_" + name if name[0].isdigit() else name
