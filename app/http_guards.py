"""ASGI middleware guarding the HTTP side: request body size (413) and JSON-only POSTs (CSRF).

A browser lets any web page submit a plain HTML form (`application/x-www-form-urlencoded`,
`multipart/form-data`, `text/plain`) to any site without a CORS preflight, so a gateway that ran
mutations from such posts could be driven by a hostile page. POSTs to the GraphQL and `/post`
routes must therefore say `Content-Type: application/json` (which a form cannot, and which makes
a cross-site `fetch` preflight); anything else gets 415 before any work is done.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodySizeLimit", "JsonOnlyPosts"]

_JSON_TYPES = ("application/json", "application/graphql-response+json")


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses request bodies over `max_body_size` bytes with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_body_size <= 0:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        message = f"request body larger than the gateway's limit of {limit} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await _send_error(send, 413, message)
                    return
                break
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return event

        async def tracking_send(event: Message) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
            await send(event)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_error(send, 413, message)


class JsonOnlyPosts:
    """Answers 415 to a POST on `paths` whose Content-Type is not JSON (see the module docstring)."""

    def __init__(self, app: ASGIApp, paths: tuple[str, ...]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            content_type = b""
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value
                    break
            media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
            if media not in _JSON_TYPES:
                shown = media or "none"
                await _send_error(
                    send,
                    415,
                    f"POST {scope['path']} needs Content-Type: application/json (got {shown}); "
                    "form posts are refused so another web site cannot trigger requests (CSRF)",
                )
                return
        await self.app(scope, receive, send)
