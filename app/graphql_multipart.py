"""Subscriptions asked for over plain HTTP: streamed as `multipart/mixed` execution results, or refused clearly.

strawberry streams a subscription over HTTP when the request names a streaming transport in its
`Accept` header (`multipart/mixed;subscriptionSpec="1.0"`, `text/event-stream`). Without one, it
executes the subscription as if it were a query, and the caller gets "Cannot return null for
non-nullable field Subscription.x" as a masked internal error. Two callers meet that:

- GraphiQL's HTTP fetcher, which sends `Accept: application/json, multipart/mixed` for any operation
  it has not yet parsed as a subscription (a run right after typing). It reads each multipart part
  as a plain execution result and merges it into the result pane (the incremental-delivery framing,
  which GraphQL Yoga also uses for subscriptions), not as the `{"payload": ...}` envelope of the
  subscriptionSpec framing. `MixedSubscriptionTransport` streams that way.
- any other request for a single JSON answer: it gets `SUBSCRIPTION_NEEDS_A_STREAM`, a GraphQL
  error saying where subscriptions are served.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import ClassVar, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestProtocol
from strawberry.http.streaming import HTTPStreamTransport, JSONEncoder, MultipartTransport
from strawberry.types.graphql import OperationType as StrawberryOperationType

__all__ = [
    "MIXED_SUBSCRIPTION_PROTOCOL",
    "SUBSCRIPTION_NEEDS_A_STREAM",
    "MixedSubscriptionTransport",
    "accepts_multipart_mixed",
    "is_subscription",
]

# Not a protocol a client names: the view picks this transport itself, once it knows the
# operation is a subscription (see `GatewayGraphQL.parse_http_body`).
MIXED_SUBSCRIPTION_PROTOCOL = "flowql-multipart-mixed"

SUBSCRIPTION_NEEDS_A_STREAM = (
    "A subscription streams its events and cannot be answered with a single JSON response: subscribe "
    "over the WebSocket at /graphql (graphql-transport-ws or graphql-ws), or POST it with "
    "`Accept: multipart/mixed` or `Accept: text/event-stream`."
)

_BOUNDARY = "-"
_HEARTBEAT_INTERVAL_S = 15.0


class MixedSubscriptionTransport(MultipartTransport, HTTPStreamTransport):
    """Subscription events as `multipart/mixed; boundary="-"` parts, each one execution result.

    Every event carries `"hasNext": true`; the stream ends with a `{"hasNext": false}` part. The
    first heartbeat (an empty `{}` part, sent at once) makes the opening boundary, as strawberry's
    subscriptionSpec transport does; later ones keep idle connections open.
    """

    protocol: ClassVar[GraphQLRequestProtocol] = cast(GraphQLRequestProtocol, MIXED_SUBSCRIPTION_PROTOCOL)
    batching_error: ClassVar[str] = "Batching is not supported for subscriptions"
    send_initial_heartbeat: ClassVar[bool] = True
    heartbeat_interval: float = _HEARTBEAT_INTERVAL_S

    def __init__(self) -> None:
        super().__init__(_BOUNDARY)

    def accepts(self, accept: str) -> bool:
        # Never chosen from headers alone: `multipart/mixed` also asks for plain JSON answers to
        # queries and mutations (see the module docstring).
        return False

    def allowed_operation_types(
        self, allowed_operation_types: set[StrawberryOperationType]
    ) -> Iterable[StrawberryOperationType]:
        return (StrawberryOperationType.SUBSCRIPTION,)

    def encode_next(self, response: GraphQLHTTPResponse, encode_json: JSONEncoder) -> str:
        return self.encode_multipart_data({**response, "hasNext": True}, encode_json)

    def encode_complete(self) -> str:
        last = self.encode_multipart_data({"hasNext": False}, lambda value: json.dumps(value, separators=(",", ":")))
        return last + "--\r\n"  # the part's trailing delimiter becomes the closing one

    def heartbeat_message(self, encode_json: JSONEncoder) -> str:
        return self.encode_multipart_data({}, encode_json)


def accepts_multipart_mixed(accept: str) -> bool:
    """Whether an `Accept` header value names `multipart/mixed` (whatever its parameters)."""
    return any(part.split(";", 1)[0].strip().lower() == "multipart/mixed" for part in accept.split(","))


def is_subscription(query: str | None, operation_name: str | None, max_tokens: int | None) -> bool:
    """Whether the operation `query` (and `operation_name`) selects is a subscription.

    Cheap for what is not: a document that never says "subscription" is not parsed. A document
    that does not parse, or does not select one operation, answers False: strawberry then reports
    it as usual. `max_tokens` bounds the parse as the schema's own parse is bounded.
    """
    if not query or "subscription" not in query:
        return False
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION
