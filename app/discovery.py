"""What the gateway tells callers about the graph: endpoints (merged over executors) and executors.

`EndpointSpec` and `ExecutorDescription` are the typed answers the GraphQL schema and the gRPC
`Endpoints` call are built from; `merge_endpoints` combines the executors' `EndpointsInfo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flowql.proto.flowql_pb2 import EndpointInfo, EndpointsInfo

__all__ = ["EndpointSpec", "ExecutorDescription", "HealthState", "merge_endpoints", "to_endpoints_info"]

HealthState = Literal["SERVING", "NOT_SERVING", "UNKNOWN"]


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint of the Flow: which executors serve it and its document types.

    The input type is the one declared by the first executor (in graph order) serving the endpoint,
    the output type the one declared by the last: what goes in and what comes out of the Flow.
    """

    endpoint: str
    executors: tuple[str, ...]
    input_schema_name: str
    # JSON schema (pydantic `model_json_schema()`) as a JSON string.
    input_schema: str
    output_schema_name: str
    output_schema: str
    # True when an executor serves it with a generator (documents stream one by one).
    streaming: bool
    description: str


@dataclass(frozen=True)
class ExecutorDescription:
    """One executor of the running Flow, for the GraphQL Flow queries."""

    name: str
    endpoints: tuple[str, ...]
    needs: tuple[str, ...]
    shards: int
    replicas: int
    # Replica addresses per shard.
    addresses: tuple[tuple[str, ...], ...]
    polling: dict[str, str] = field(default_factory=dict)
    when: dict[str, Any] | None = None
    no_reduce: bool = False
    floating: bool = False
    external: bool = False
    has_default: bool = False
    health: HealthState = "UNKNOWN"


def merge_endpoints(infos: Sequence[EndpointsInfo]) -> list[EndpointSpec]:
    """Endpoint specs over `infos` (in graph order), endpoints in first-seen order."""
    served: dict[str, list[tuple[str, EndpointInfo]]] = {}
    for info in infos:
        for endpoint in info.endpoints:
            served.setdefault(endpoint.endpoint, []).append((info.executor, endpoint))
    specs = []
    for name, entries in served.items():
        first, last = entries[0][1], entries[-1][1]
        specs.append(
            EndpointSpec(
                endpoint=name,
                executors=tuple(executor for executor, _ in entries),
                input_schema_name=first.input_schema_name,
                input_schema=first.input_schema,
                output_schema_name=last.output_schema_name,
                output_schema=last.output_schema,
                streaming=any(entry.streaming for _, entry in entries),
                description=next((entry.description for _, entry in entries if entry.description), ""),
            )
        )
    return specs


def to_endpoints_info(name: str, specs: Sequence[EndpointSpec], *, has_default: bool) -> EndpointsInfo:
    """The gateway's answer to the gRPC `Endpoints` call."""
    return EndpointsInfo(
        executor=name,
        has_default=has_default,
        endpoints=[
            EndpointInfo(
                endpoint=spec.endpoint,
                input_schema_name=spec.input_schema_name,
                input_schema=spec.input_schema,
                output_schema_name=spec.output_schema_name,
                output_schema=spec.output_schema,
                streaming=spec.streaming,
                description=spec.description,
            )
            for spec in specs
        ],
    )
