"""The fixed GraphQL types of the schema: the Flow's description and subscription progress.

Values are plain dicts (read by the schema's default resolver, `graphql_types.read_field`).
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

__all__ = ["ExecutorInfo", "EdgeInfo", "EndpointInfo", "GatewayHealth", "ExecutorHealth", "Progress"]


@strawberry.type(description="An executor of the running Flow.")
class ExecutorInfo:
    name: str
    endpoints: list[str] = strawberry.field(description="Endpoints the executor declares.")
    replicas: int = strawberry.field(description="Copies of each shard; requests are spread round-robin.")
    shards: int
    polling: JSON = strawberry.field(description="Polling per endpoint ('*' is the default): ANY, ALL or ALL_ASYNC.")
    needs: list[str] = strawberry.field(description="Executors (or 'gateway') this one receives requests from.")
    health: str = strawberry.field(description="SERVING, NOT_SERVING or UNKNOWN.")


@strawberry.type(description="A directed edge of the Flow graph: 'gateway' is its start, 'end' feeds the caller.")
class EdgeInfo:
    source: str
    target: str


@strawberry.type(description="An endpoint of the Flow and the GraphQL types of its documents.")
class EndpointInfo:
    endpoint: str
    executors: list[str]
    input_type: str = strawberry.field(description="GraphQL input type of its documents.")
    output_type: str = strawberry.field(description="GraphQL type of the documents it returns.")
    streaming: bool = strawberry.field(description="A generator endpoint: one subscription event per document.")
    field: str | None = strawberry.field(description="Its own Mutation/Subscription field, when it has one.")
    description: str | None


@strawberry.type(description="Whether one executor answers.")
class ExecutorHealth:
    name: str
    reachable: bool


@strawberry.type(description="The gateway's health: it answers, and which executors do.")
class GatewayHealth:
    ok: bool = strawberry.field(description="True when every executor is reachable.")
    executors: list[ExecutorHealth]


@strawberry.type(description="How far a subscription has come: request batches done out of the total.")
class Progress:
    done: int
    total: int
