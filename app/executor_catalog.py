"""`ExecutorCatalog`: what the executors say about themselves, cached for the streamer.

Endpoints are asked of each executor once (its `Endpoints` RPC) and kept; one that did not answer
is asked again on a later call, at most every couple of seconds. Health comes from each replica's
grpc.health.v1 check; `describe()` answers synchronously from the last check and `refresh_health_soon`
starts a new one in the background when that answer has aged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping

from flowql.proto.flowql_pb2 import EndpointsInfo
from flowql.topology import GATEWAY, Topology

from .background import BackgroundTasks
from .discovery import EndpointSpec, ExecutorDescription, HealthState, merge_endpoints
from .executor_hop import ExecutorHop
from .routing_plan import PlannedNode, RoutingPlan

__all__ = ["ExecutorCatalog"]

logger = logging.getLogger("flowql.gateway")

# Health older than this is refreshed (in the background) when someone asks for it.
_HEALTH_TTL_S = 1.0
# Executors that did not describe their endpoints are asked again at most this often.
_REDISCOVERY_INTERVAL_S = 2.0


class ExecutorCatalog:
    """Endpoints and health of the topology's executors."""

    def __init__(
        self,
        topology: Topology,
        plan: RoutingPlan,
        hops: Mapping[str, ExecutorHop],
        background: BackgroundTasks,
        *,
        discovery_timeout: float,
    ) -> None:
        self._topology = topology
        self._plan = plan
        self._hops = hops
        self._background = background
        self._discovery_timeout = discovery_timeout
        self._infos: dict[str, EndpointsInfo] = {}
        self._specs: list[EndpointSpec] | None = None
        self._discovery_tried_at = float("-inf")
        self._health: dict[str, HealthState] = {}
        self._health_checked_at = float("-inf")
        self._health_refresh: asyncio.Task[dict[str, HealthState]] | None = None

    async def discover(self, *, force: bool = False) -> None:
        """Ask the executors that have not described their endpoints yet."""
        missing = [hop for name, hop in self._hops.items() if name not in self._infos]
        if not missing:
            return
        # An executor that is down must not cost every later call a round of attempts.
        if not force and time.monotonic() - self._discovery_tried_at < _REDISCOVERY_INTERVAL_S:
            return
        self._discovery_tried_at = time.monotonic()
        answers = await asyncio.gather(
            *(asyncio.wait_for(hop.shards[0].endpoints(), self._discovery_timeout) for hop in missing),
            return_exceptions=True,
        )
        for hop, answer in zip(missing, answers, strict=True):
            if isinstance(answer, EndpointsInfo):
                self._infos[hop.name] = answer
                self._specs = None
            else:
                logger.warning("executor %r did not describe its endpoints: %s", hop.name, answer)

    async def endpoints(self) -> list[EndpointSpec]:
        await self.discover()
        if self._specs is None:
            ordered = [self._infos[node.name] for node in self._plan.nodes if node.name in self._infos]
            self._specs = merge_endpoints(ordered)
        return list(self._specs)

    def has_default_endpoint(self) -> bool:
        return any(info.has_default for info in self._infos.values())

    async def streaming_executor(self, endpoint: str, pattern: re.Pattern[str] | None) -> PlannedNode | None:
        """The first awaited executor (in graph order) serving `endpoint` with a generator."""
        await self.discover()
        for node in self._plan.nodes:
            if node.floating or (pattern is not None and pattern.match(node.name) is None):
                continue
            info = self._infos.get(node.name)
            if info is not None and any(e.endpoint == endpoint and e.streaming for e in info.endpoints):
                return node
        return None

    async def check_health(self) -> dict[str, HealthState]:
        names = list(self._hops)
        answers = await asyncio.gather(*(self._executor_health(self._hops[name]) for name in names))
        self._health = dict(zip(names, answers, strict=True))
        self._health_checked_at = time.monotonic()
        return dict(self._health)

    async def _executor_health(self, hop: ExecutorHop) -> HealthState:
        try:
            replies = await asyncio.gather(*(transport.health() for transport in hop.shards))
        except Exception:
            logger.warning("health check of executor %r failed", hop.name, exc_info=True)
            return "UNKNOWN"
        serving = all(all(reply.values()) for reply in replies)
        return "SERVING" if serving else "NOT_SERVING"

    def refresh_health_soon(self) -> None:
        """Start a health check in the background when the last one is older than a second."""
        if time.monotonic() - self._health_checked_at < _HEALTH_TTL_S:
            return
        if self._health_refresh is not None and not self._health_refresh.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._health_refresh = loop.create_task(self.check_health())
        self._background.track(self._health_refresh)

    def describe(self) -> list[ExecutorDescription]:
        """Each executor as the topology describes it, with its endpoints and last known health."""
        floating = {node.name for node in self._plan.nodes if node.floating}
        descriptions = []
        for node in self._topology.nodes:
            info = self._infos.get(node.name)
            descriptions.append(
                ExecutorDescription(
                    name=node.name,
                    endpoints=tuple(e.endpoint for e in info.endpoints) if info is not None else (),
                    needs=tuple(node.needs) or (GATEWAY,),
                    shards=len(node.shards),
                    replicas=max((len(replicas) for replicas in node.shards), default=0),
                    addresses=tuple(tuple(replicas) for replicas in node.shards),
                    polling=dict(node.polling),
                    when=node.when,
                    no_reduce=node.no_reduce,
                    floating=node.name in floating,
                    external=node.external,
                    has_default=info.has_default if info is not None else False,
                    health=self._health.get(node.name, "UNKNOWN"),
                )
            )
        return descriptions
