"""`GatewayStreamer`: walks each request through the executor graph and returns the result.

>>> streamer = GatewayStreamer(Topology.load("topology.json"), GatewaySettings())
>>> async with streamer:
...     response = await streamer.process(new_request("/index", docs=encode_docs(docs)))

The walk (issue 3, "Routing"): from the gateway to the end executors; an executor with several
`needs` waits for all its branches and gets them merged by id (concatenated with `no_reduce`),
each branch kept in `request.branches`; floating executors get the request but nobody waits for
them; `target_executor` (a regex, `re.match` on the name) skips the executors it does not match;
the first executor error stops the request and comes back in its status, naming the executor.
Documents travel as bytes: a straight chain forwards them untouched, and only joins, ALL-polled
shards and `when` conditions parse them (see `docs_merge` and `when_filter`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from flowql._exceptions import BadRequestError, FlowQLError, ServiceUnavailable
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import add_route
from flowql.topology import GATEWAY, Topology

from .background import BackgroundTasks
from .discovery import EndpointSpec, ExecutorDescription, HealthState
from .executor_catalog import ExecutorCatalog
from .executor_hop import ExecutorHop
from .grpc_transport import GrpcTransport
from .request_merge import first_error, join_branches, merge_requests
from .routing_plan import PlannedNode, RoutingPlan, build_plan
from .rpc_errors import error_response
from .settings import GatewaySettings
from .transport import ExecutorTransport, TransportFactory

__all__ = ["GatewayStreamer"]

logger = logging.getLogger("flowql.gateway")

_MAX_CACHED_PATTERNS = 256


class GatewayStreamer:
    """Routes DataRequests through the topology's executors. Errors come back in the response's
    status (naming the executor), never as exceptions."""

    def __init__(
        self,
        topology: Topology,
        settings: GatewaySettings,
        transport_factory: TransportFactory | None = None,
        *,
        discovery_timeout: float = 5.0,
    ) -> None:
        self.topology = topology
        self.settings = settings
        self._plan = build_plan(topology)
        self._background = BackgroundTasks(logger)
        factory = transport_factory or self._grpc_transport
        self._hops = {
            node.name: ExecutorHop(
                node,
                [factory(node.name, index, replicas) for index, replicas in enumerate(node.shards)],
                self._background,
            )
            for node in topology.nodes
        }
        self._catalog = ExecutorCatalog(
            topology, self._plan, self._hops, self._background, discovery_timeout=discovery_timeout
        )
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._prefix_plans: dict[str, RoutingPlan] = {}
        self._closed = False

    def _grpc_transport(self, executor: str, shard: int, addresses: Sequence[str]) -> ExecutorTransport:
        return GrpcTransport(
            executor,
            addresses,
            retries=self.settings.retries,
            timeout_send_ms=self.settings.timeout_send_ms,
            compression=self.settings.compression,
        )

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Ask every executor for its endpoints and health (unreachable ones are asked again later)."""
        await self._catalog.discover(force=True)
        await self._catalog.check_health()

    async def close(self, grace: float = 5.0) -> None:
        """Let floating work finish (up to `grace` seconds), then close every connection."""
        self._closed = True
        await self._background.aclose(grace)
        transports = [transport for hop in self._hops.values() for transport in hop.shards]
        await asyncio.gather(*(transport.aclose() for transport in transports), return_exceptions=True)

    async def __aenter__(self) -> GatewayStreamer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- requests --------------------------------------------------------------------------------

    async def process(self, request: DataRequest) -> DataRequest:
        """Walk `request` through the graph; the response carries the result or the error."""
        add_route(request, GATEWAY, time.time_ns())
        if self._closed:
            return error_response(request, GATEWAY, ServiceUnavailable("the gateway is shutting down"))
        try:
            pattern = self._target_pattern(request.header.target_executor)
            response = await self._walk(self._plan, request, pattern)
        except FlowQLError as exc:
            return error_response(request, GATEWAY, exc)
        except Exception as exc:  # a routing bug must still answer the caller, and say so
            logger.exception("routing request %s failed", request.header.request_id)
            return error_response(request, GATEWAY, exc)
        if response.routes and response.routes[0].executor == GATEWAY:
            response.routes[0].end_time_ns = time.time_ns()
        return response

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        """For an endpoint an executor serves with a generator: one response per yielded document,
        as it is produced. Executors before it run first; executors after it are not called for
        streamed items. Other endpoints yield the one `process` response."""
        if self._closed:
            yield error_response(request, GATEWAY, ServiceUnavailable("the gateway is shutting down"))
            return
        try:
            pattern = self._target_pattern(request.header.target_executor)
        except FlowQLError as exc:
            yield error_response(request, GATEWAY, exc)
            return
        streaming = await self._catalog.streaming_executor(request.header.exec_endpoint, pattern)
        if streaming is None:
            yield await self.process(request)
            return
        add_route(request, GATEWAY, time.time_ns())
        if streaming.upstreams != (GATEWAY,):
            request = await self._input_of(streaming, request, pattern)
            if request.status.code == Status.ERROR:
                yield request
                return
        async for response in self._hops[streaming.name].stream(request):
            yield response

    async def _input_of(self, node: PlannedNode, request: DataRequest, pattern: re.Pattern[str] | None) -> DataRequest:
        """What `node` receives for `request`: its upstreams' outputs (joined when several)."""
        ends = [name for name in node.upstreams if name != GATEWAY]
        plan = self._prefix_plans.get(node.name)
        if plan is None:
            plan = self._prefix_plans[node.name] = self._plan.until(ends)
        outputs = dict(zip(ends, await self._end_outputs(plan, request, pattern), strict=True))
        branches = [request if name == GATEWAY else outputs[name] for name in node.upstreams]
        if len(branches) == 1:
            return branches[0]
        return _join_inputs(node, branches)

    def _target_pattern(self, target: str) -> re.Pattern[str] | None:
        if not target:
            return None
        pattern = self._patterns.get(target)
        if pattern is None:
            try:
                pattern = re.compile(target)
            except re.error as exc:
                raise BadRequestError(f"target_executor {target!r} is not a valid regular expression: {exc}") from exc
            if len(self._patterns) >= _MAX_CACHED_PATTERNS:
                self._patterns.clear()
            self._patterns[target] = pattern
        return pattern

    async def _walk(self, plan: RoutingPlan, request: DataRequest, pattern: re.Pattern[str] | None) -> DataRequest:
        if plan.chain is not None:
            # The common case: no task per hop, and the document bytes are handed on as they are.
            for name in plan.chain:
                if pattern is not None and pattern.match(name) is None:
                    continue
                request = await self._hops[name].send(request)
                if request.status.code == Status.ERROR:
                    return request
            return request
        if not plan.nodes:
            return request
        results = await self._walk_graph(plan, request, pattern)
        return first_error(results) or merge_requests(results)

    async def _end_outputs(
        self, plan: RoutingPlan, request: DataRequest, pattern: re.Pattern[str] | None
    ) -> list[DataRequest]:
        if plan.chain is not None:
            return [await self._walk(plan, request, pattern)]
        return await self._walk_graph(plan, request, pattern)

    async def _walk_graph(
        self, plan: RoutingPlan, request: DataRequest, pattern: re.Pattern[str] | None
    ) -> list[DataRequest]:
        """Every executor of `plan` as a task fed by its upstreams' tasks; the end executors' outputs."""
        loop = asyncio.get_running_loop()
        start: asyncio.Future[DataRequest] = loop.create_future()
        start.set_result(request)
        outputs: dict[str, asyncio.Future[DataRequest]] = {GATEWAY: start}
        awaited: list[asyncio.Future[DataRequest]] = []
        for node in plan.nodes:
            task = loop.create_task(self._run_node(node, [outputs[name] for name in node.upstreams], pattern))
            outputs[node.name] = task
            if node.floating:
                self._background.track(task, functools.partial(_log_floating_failure, node.name))
            else:
                awaited.append(task)
        try:
            results = [await outputs[name] for name in plan.end]
        finally:
            # A caller that went away takes its unfinished awaited hops with it (not the floating ones).
            for pending in awaited:
                if not pending.done():
                    pending.cancel()
        return results

    async def _run_node(
        self,
        node: PlannedNode,
        inputs: list[asyncio.Future[DataRequest]],
        pattern: re.Pattern[str] | None,
    ) -> DataRequest:
        if len(inputs) == 1:
            request = await inputs[0]
            if request.status.code == Status.ERROR:
                return request
        else:
            request = _join_inputs(node, [await future for future in inputs])
            if request.status.code == Status.ERROR:
                return request
        if pattern is not None and pattern.match(node.name) is None:
            if request.branches:
                del request.branches[:]
            return request
        response = await self._hops[node.name].send(request)
        if response.branches:
            # The branches were this executor's input; downstream executors see its output only.
            del response.branches[:]
        return response

    # -- what the executors say about themselves ---------------------------------------------------

    async def endpoints(self) -> list[EndpointSpec]:
        """The Flow's endpoints, merged over the executors (asked once, then cached)."""
        return await self._catalog.endpoints()

    def has_default_endpoint(self) -> bool:
        """Whether some executor has a catch-all `@requests` handler (as far as discovered)."""
        return self._catalog.has_default_endpoint()

    async def check_health(self) -> dict[str, HealthState]:
        """Ask every replica's grpc.health.v1 service; an executor is SERVING when all its replicas are."""
        return await self._catalog.check_health()

    async def dry_run(self) -> dict[str, bool]:
        """Executor name -> whether every replica of every shard answers its health check as SERVING."""
        return {name: state == "SERVING" for name, state in (await self.check_health()).items()}

    def executors(self) -> list[ExecutorDescription]:
        """The executors as the topology describes them, with their discovered endpoints and the
        health found by the last `check_health()` / `dry_run()` (start() runs one; a call finding
        it older than a second starts a new one in the background)."""
        if not self._closed:
            self._catalog.refresh_health_soon()
        return self._catalog.describe()

    @property
    def plan(self) -> RoutingPlan:
        """The routing plan built from the topology at construction."""
        return self._plan


def _join_inputs(node: PlannedNode, branches: list[DataRequest]) -> DataRequest:
    """What a joining `node` receives: the first failed branch, else the branches joined."""
    failed = first_error(branches)
    if failed is not None:
        return failed
    try:
        return join_branches(list(zip(node.upstreams, branches, strict=True)), no_reduce=node.no_reduce)
    except Exception as exc:  # e.g. a branch returned bytes that are not a DocListProto
        return error_response(branches[0], node.name, BadRequestError(f"merging the inputs failed: {exc}"))


def _log_floating_failure(name: str, response: DataRequest) -> None:
    if response.status.code == Status.ERROR and response.status.exception.executor == name:
        logger.warning("floating executor %r failed: %s", name, response.status.description)
