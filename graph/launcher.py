"""`FlowLauncher`: starts a Flow's processes, waits until they serve, and stops them in order.

Start: every executor process at once (each binds a free port and prints it on its ready line),
and the gateway process beside them (`child_entry`: it imports meanwhile); once every executor is
ready, the topology document with their addresses, then the gateway's arguments naming it.
Stop: the gateway first, so no new request reaches an executor that is going away, then all
executors together, each given its grace period before it is killed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import shutil
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from flowql._exceptions import RuntimeFailedToStart
from flowql.graph.child_entry import ARGS_ON_STDIN
from flowql.graph.child_process import ChildEvent, ChildEventKind, ChildProcess
from flowql.graph.health import wait_gateway_serving, wait_http_serving, wait_tcp_open
from flowql.graph.plan import FlowPlan
from flowql.graph.uses import resolve_uses
from flowql.graph.workers import worker_settings
from flowql.topology import Topology

__all__ = ["FlowLauncher", "RunningFlow", "reachable_host"]

_GATEWAY_GRACE_S = 5.0
_STOP_MARGIN_S = 1.0
_HEALTH_TIMEOUT_S = 10.0
# `flowql <role> ...` plus stopping when the Flow's process goes away; see child_entry.
_CHILD_ENTRY = (sys.executable, "-m", "flowql.graph.child_entry")


@dataclass(frozen=True)
class RunningFlow:
    """What a started Flow serves: the gateway's URLs, executor addresses, and how long start-up took."""

    gateway_urls: list[str]
    topology: Topology
    startup_seconds: float


class FlowLauncher:
    """Runs one FlowPlan as local processes; `start()` then `stop()`, as often as needed."""

    def __init__(self, plan: FlowPlan) -> None:
        self._plan = plan
        self._executors: list[ChildProcess] = []
        self._gateway: ChildProcess | None = None
        self._workdir: Path | None = None
        # A safety net for a Flow that is never stopped: kill what is left when it is collected or at exit.
        self._children: list[ChildProcess] = []
        self._finalizer = weakref.finalize(self, _kill_all, self._children)

    @property
    def pids(self) -> dict[str, list[int]]:
        """Process ids by executor name (and "gateway"), for checks that nothing is left behind."""
        found: dict[str, list[int]] = {}
        for child in self._children:
            found.setdefault(child.name, []).append(child.pid)
        return found

    def start(self) -> RunningFlow:
        started = time.monotonic()
        try:
            return self._start(started)
        except BaseException:
            self.stop()
            raise

    def _start(self, started: float) -> RunningFlow:
        plan = self._plan
        self._workdir = Path(tempfile.mkdtemp(prefix="flowql-flow-"))
        events: queue.Queue[ChildEvent] = queue.Queue()
        layout: dict[str, list[list[ChildProcess]]] = {}
        for spec in plan.executors:
            if spec.external:
                continue
            uses = resolve_uses(spec.uses, self._workdir, spec.name)
            env = self._child_env(spec.env)
            timeout = plan.ready_timeout(spec)
            layout[spec.name] = []
            for shard in worker_settings(spec, uses):
                row = []
                for settings in shard:
                    child = ChildProcess(
                        spec.name,
                        [*_CHILD_ENTRY, "executor", *settings.to_argv()],
                        env=env,
                        ready_prefix=f"flowql executor {spec.name} serving on ",
                        failure_prefix=f"flowql executor {spec.name} failed: ",
                        events=events,
                        timeout=timeout,
                    )
                    self._children.append(child)
                    child.start()
                    row.append(child)
                layout[spec.name].append(row)
        self._executors = [child for rows in layout.values() for row in rows for child in row]
        # The gateway imports while the executors start; its arguments follow once their ports are known.
        gateway_name = plan.settings.gateway.name
        self._gateway = ChildProcess(
            gateway_name,
            [*_CHILD_ENTRY, "gateway", ARGS_ON_STDIN],
            env=self._child_env({}),
            ready_prefix=f"flowql gateway {gateway_name} serving on ",
            failure_prefix=f"flowql gateway {gateway_name} failed: ",
            events=events,
            timeout=plan.ready_timeout(),
        )
        self._children.append(self._gateway)
        self._gateway.start()
        _await_ready(self._executors, [*self._executors, self._gateway], events)

        addresses = {name: [[_address_of(child) for child in row] for row in rows] for name, rows in layout.items()}
        topology = plan.topology(addresses)
        topology_path = self._workdir / "topology.json"
        topology.save(topology_path)

        gateway_settings = dataclasses.replace(plan.settings.gateway, topology=str(topology_path))
        self._gateway.send_line(json.dumps(gateway_settings.to_argv()))
        _await_ready([self._gateway], [*self._executors, self._gateway], events)
        assert self._gateway.ready_line is not None
        urls = self._gateway.ready_line.split(" serving on ", 1)[1].split()
        try:
            _check_health(urls, tls=gateway_settings.ssl_certfile is not None)
        except TimeoutError as exc:
            raise RuntimeFailedToStart(gateway_name, str(exc)) from None
        return RunningFlow(gateway_urls=urls, topology=topology, startup_seconds=time.monotonic() - started)

    def _child_env(self, own: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        # A child must import what this process imports (the user's script folder, a test's root).
        extra = _import_paths()
        if extra:
            env["PYTHONPATH"] = os.pathsep.join([*extra, *filter(None, [env.get("PYTHONPATH")])])
        # Executors' prints should show up as they happen, not when the process exits.
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self._plan.settings.env)
        env.update(own)
        return env

    def exited(self) -> list[tuple[str, int, int]]:
        """(name, pid, exit status) of each process of the running Flow that has ended."""
        found = []
        for child in self._children:
            status = child.returncode()
            if status is not None:
                found.append((child.name, child.pid, status))
        return found

    def gateway_exited(self) -> bool:
        return self._gateway is not None and self._gateway.returncode() is not None

    def stop(self) -> None:
        """Stop the gateway, then the executors; kill whatever outlives its grace period. Safe to call twice.

        If stopping is interrupted (a second Ctrl-C), every process left is killed on the way out.
        """
        try:
            if self._gateway is not None:
                self._gateway.terminate()
                self._gateway.wait_or_kill(time.monotonic() + _GATEWAY_GRACE_S)
            grace = {spec.name: spec.grace for spec in self._plan.executors}
            for child in self._executors:
                child.terminate()
            now = time.monotonic()
            for child in self._executors:
                child.wait_or_kill(now + grace.get(child.name, 5.0) + _STOP_MARGIN_S)
        finally:
            # Anything not stopped above (a failed start half-way, an interrupted stop) is killed outright.
            for child in self._children:
                child.kill()
            self._children.clear()
            self._executors = []
            self._gateway = None
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None


def _await_ready(
    pending_children: list[ChildProcess], watched: list[ChildProcess], events: queue.Queue[ChildEvent]
) -> None:
    """Return once every child in `pending_children` printed its ready line.

    Raises RuntimeFailedToStart as soon as any watched child prints its failure line or exits,
    or when a child's timeout passes. Process exit is also polled, in case a grandchild keeps the
    output pipe open after the child died.
    """
    pending = set(pending_children)
    watching = set(watched)
    deadlines = {child: (time.monotonic() + child.timeout if child.timeout is not None else None) for child in pending}
    while pending:
        now = time.monotonic()
        limits = [deadline - now for child, deadline in deadlines.items() if child in pending and deadline is not None]
        if limits and min(limits) <= 0:
            late = next(c for c, d in deadlines.items() if c in pending and d is not None and d <= now)
            raise RuntimeFailedToStart(late.name, f"not ready after {late.timeout:.1f} s (timeout_ready)")
        try:
            event = events.get(timeout=min([0.25, *limits]))
        except queue.Empty:
            for child in watching:
                if child.returncode() is not None:
                    raise RuntimeFailedToStart(child.name, child.failure_reason()) from None
            continue
        if event.child not in watching:
            continue
        if event.kind is ChildEventKind.READY:
            pending.discard(event.child)
        else:
            raise RuntimeFailedToStart(event.child.name, event.child.failure_reason())


def _check_health(urls: list[str], *, tls: bool) -> None:
    """Ask the gateway's gRPC health service, or else its HTTP `/status`, whether it serves."""
    if tls:
        # Its certificate may name another host than loopback: only check that every listener accepts.
        for url in urls:
            wait_tcp_open(url.partition("://")[2], timeout=_HEALTH_TIMEOUT_S)
        return
    addresses = dict(url.split("://", 1) for url in urls)
    if "grpc" in addresses:
        wait_gateway_serving(addresses["grpc"], timeout=_HEALTH_TIMEOUT_S)
        return
    # The http and websocket listeners are the same Starlette app: either answers `GET /status`.
    wait_http_serving(f"http://{next(iter(addresses.values()))}", timeout=_HEALTH_TIMEOUT_S)


def _address_of(child: ChildProcess) -> str:
    assert child.ready_line is not None
    address = child.ready_line.rsplit(" ", 1)[-1]
    host, _, port = address.rpartition(":")
    return f"{reachable_host(host)}:{port}"


def reachable_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host` (every interface: loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "[::]", "") else host


def _import_paths() -> list[str]:
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = []
    for entry in sys.path:
        path = os.path.realpath(entry or os.getcwd())
        # The interpreter's own folders (stdlib, site-packages) are on the child's path already.
        if any(path == prefix or path.startswith(prefix + os.sep) for prefix in prefixes):
            continue
        if os.path.isdir(path) and path not in paths:
            paths.append(path)
    return paths


def _kill_all(children: list[ChildProcess]) -> None:
    for child in list(children):
        child.kill()
