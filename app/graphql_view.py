"""The GraphQL endpoint at `/graphql`: strawberry's ASGI view, built once the schema exists.

The schema depends on the Flow's endpoints, known only when the app starts (the lifespan asks
the streamer), while Starlette's routes are fixed when the app is created. `LateGraphQL` is the
route's ASGI app: it forwards to the view the lifespan installs, and answers 503 before that.

Served: POST (JSON) and GET (queries; GraphiQL for browsers) over HTTP, subscriptions over
WebSocket with `graphql-transport-ws` and `graphql-ws`, over multipart HTTP
(`Accept: multipart/mixed;subscriptionSpec="1.0"`) and over server-sent events
(`Accept: text/event-stream`, the graphql-sse "distinct connections" mode). A subscription sent
with `Accept: application/json, multipart/mixed` (GraphiQL's HTTP fetcher) streams plain execution
results as multipart parts; one that asks for a single JSON answer gets a clear error (see
`graphql_multipart`).

GraphiQL loads its scripts from the gateway (`graphiql_page`), not from unpkg.com.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult

from flowql.app.graphiql_page import local_graphiql_html
from flowql.app.graphql_limits import token_limit
from flowql.app.graphql_multipart import (
    MIXED_SUBSCRIPTION_PROTOCOL,
    SUBSCRIPTION_NEEDS_A_STREAM,
    MixedSubscriptionTransport,
    accepts_multipart_mixed,
    is_subscription,
)
from flowql.app.graphql_schema import GatewaySchema
from flowql.app.settings import GatewaySettings

if TYPE_CHECKING:
    # strawberry's own request adapter type (cross-web is a strawberry dependency).
    from cross_web import AsyncHTTPRequestAdapter

__all__ = ["LateGraphQL", "make_view"]


class GatewayGraphQL(GraphQL[object, object]):
    """strawberry's ASGI view: GraphiQL titled after the gateway and served from local assets,
    and subscriptions over plain HTTP streamed or refused (see the module docstring)."""

    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = {
        **GraphQL.stream_transport_classes_by_protocol,
        MIXED_SUBSCRIPTION_PROTOCOL: MixedSubscriptionTransport,
    }

    def __init__(self, schema: GatewaySchema, *, title: str, max_tokens: int | None, **options: Any) -> None:
        super().__init__(schema, **options)
        self.max_tokens = max_tokens
        # strawberry reads its page from disk on every request; it is fixed once the view exists.
        page = super().graphql_ide_html.replace(
            "<title>Strawberry GraphiQL</title>", f"<title>{escape(title)} · GraphiQL</title>", 1
        )
        self._ide_html = local_graphiql_html(page)

    @property
    def graphql_ide_html(self) -> str:
        return self._ide_html

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if (
            isinstance(data, GraphQLRequestData)
            and data.protocol == "http"
            and accepts_multipart_mixed(request.headers.get("accept", ""))
            and is_subscription(data.query, data.operation_name, self.max_tokens)
        ):
            return dataclasses.replace(data, protocol=MixedSubscriptionTransport.protocol)
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: object,
        root_value: object | None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Reached by one-answer requests only: streaming ones (a transport chosen) go to
        # `schema.stream`. strawberry would run a subscription here as if it were a query.
        if is_subscription(request_data.query, request_data.operation_name, self.max_tokens):
            sub_response.status_code = 400
            return ExecutionResult(data=None, errors=[GraphQLError(SUBSCRIPTION_NEEDS_A_STREAM)])
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)


def make_view(schema: GatewaySchema, settings: GatewaySettings) -> GatewayGraphQL:
    """strawberry's view over `schema` with the settings' choices."""
    return GatewayGraphQL(
        schema,
        title=settings.title,
        max_tokens=token_limit(settings),
        graphql_ide="graphiql",
        allow_queries_via_get=True,
        keep_alive=True,
        keep_alive_interval=15,
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
            MIXED_SUBSCRIPTION_PROTOCOL,
        ),
        connection_init_wait_timeout=timedelta(seconds=30),
        max_subscriptions_per_connection=1000,
        # Browsers send Origin on WebSocket handshakes, and CORS does not cover WebSockets:
        # with origins configured, other sites cannot open subscriptions in a user's name.
        allowed_origins=tuple(settings.cors_origins),
    )


class LateGraphQL:
    """ASGI app of the `/graphql` route; `view` is set when the app has started."""

    def __init__(self) -> None:
        self.view: GraphQL[object, object] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.view is not None:
            await self.view(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "the gateway is starting"})
            return
        response = JSONResponse({"errors": [{"message": "the gateway is starting"}]}, status_code=503)
        await response(scope, receive, send)
