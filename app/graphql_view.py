"""The GraphQL endpoint at `/graphql`: strawberry's ASGI view, built once the schema exists.

The schema depends on the Flow's endpoints, known only when the app starts (the lifespan asks
the streamer), while Starlette's routes are fixed when the app is created. `LateGraphQL` is the
route's ASGI app: it forwards to the view the lifespan installs, and answers 503 before that.

Served: POST (JSON) and GET (queries; GraphiQL for browsers) over HTTP, subscriptions over
WebSocket with `graphql-transport-ws` and `graphql-ws`, over multipart HTTP
(`Accept: multipart/mixed;subscriptionSpec="1.0"`) and over server-sent events
(`Accept: text/event-stream`, the graphql-sse "distinct connections" mode).
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from flowql.app.graphql_schema import GatewaySchema
from flowql.app.settings import GatewaySettings

__all__ = ["LateGraphQL", "make_view"]


class GatewayGraphQL(GraphQL[object, object]):
    """strawberry's ASGI view, with GraphiQL titled after the gateway."""

    title = "flowql"

    @property
    def graphql_ide_html(self) -> str:
        html = super().graphql_ide_html
        return html.replace("<title>Strawberry GraphiQL</title>", f"<title>{escape(self.title)} · GraphiQL</title>", 1)


def make_view(schema: GatewaySchema, settings: GatewaySettings) -> GatewayGraphQL:
    """strawberry's view over `schema` with the settings' choices."""
    view = GatewayGraphQL(
        schema,
        graphql_ide="graphiql",
        allow_queries_via_get=True,
        keep_alive=True,
        keep_alive_interval=15,
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
        ),
        connection_init_wait_timeout=timedelta(seconds=30),
        max_subscriptions_per_connection=1000,
        # Browsers send Origin on WebSocket handshakes, and CORS does not cover WebSockets:
        # with origins configured, other sites cannot open subscriptions in a user's name.
        allowed_origins=tuple(settings.cors_origins),
    )
    view.title = settings.title
    return view


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
