"""What the executors say about themselves: late discovery and aging health (`flowql.app.executor_catalog`)."""

from __future__ import annotations

import asyncio

import pytest

from flowql._exceptions import ServiceUnavailable
from flowql.app import executor_catalog
from flowql.app.inprocess_transport import InProcessTransport
from flowql.app.settings import GatewaySettings
from flowql.app.streamer import GatewayStreamer
from flowql.proto.flowql_pb2 import EndpointInfo, EndpointsInfo

from .inprocess_executors import FakeExecutor, chain


class LateTransport(InProcessTransport):
    """An executor whose Endpoints call fails until `up` is set."""

    up = False

    async def endpoints(self) -> EndpointsInfo:
        if not self.up:
            raise ServiceUnavailable("executor 'late' is unavailable at in-process: not yet")
        return EndpointsInfo(executor="late", endpoints=[EndpointInfo(endpoint="/late")])


async def test_executor_silent_at_start_is_discovered_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor_catalog, "_REDISCOVERY_INTERVAL_S", 0.0)
    transport = LateTransport("late", FakeExecutor("late").process)
    streamer = GatewayStreamer(chain("late"), GatewaySettings(), lambda name, shard, addresses: transport)
    async with streamer:
        assert await streamer.endpoints() == []
        transport.up = True
        assert [spec.endpoint for spec in await streamer.endpoints()] == ["/late"]
        assert streamer.executors()[0].endpoints == ("/late",)


async def test_aged_health_is_refreshed_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor_catalog, "_HEALTH_TTL_S", 0.0)
    transport = FakeExecutor("a").transport()
    streamer = GatewayStreamer(chain("a"), GatewaySettings(), lambda name, shard, addresses: transport)
    async with streamer:
        assert streamer.executors()[0].health == "SERVING"
        transport.healthy = False
        streamer.executors()  # starts the refresh; the answer it gives is the last known one
        for _ in range(500):  # bounded: at most ~5 s
            if streamer.executors()[0].health == "NOT_SERVING":
                break
            await asyncio.sleep(0.01)
        assert streamer.executors()[0].health == "NOT_SERVING"
