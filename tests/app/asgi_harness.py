"""Serving the gateway's Starlette app in tests: in-process (httpx.ASGITransport) or on real uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from flowql.app.asgi import create_app
from flowql.app.settings import GatewaySettings


@contextlib.asynccontextmanager
async def in_process(streamer: Any, settings: GatewaySettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in this process, its lifespan entered by hand."""
    app = create_app(streamer, settings or GatewaySettings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@contextlib.asynccontextmanager
async def on_uvicorn(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` on a real uvicorn bound to 127.0.0.1:0; yields its base URL (http://127.0.0.1:PORT)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # bounded wait for the listener; each step yields to the server task
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
