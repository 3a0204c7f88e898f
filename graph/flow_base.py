"""`FlowBase`: what `Flow` and `AsyncFlow` share: building, validation, YAML, plotting, addresses, start and stop.

The graph lives in a `FlowPlan` (a value); starting hands it to a `FlowLauncher` (the processes).
"""

from __future__ import annotations

import copy
import enum
import logging
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from flowql._exceptions import ConfigurationError, FlowQLError
from flowql.graph.exit_signals import ExitSignals
from flowql.graph.launcher import FlowLauncher, RunningFlow, reachable_host
from flowql.graph.plan import FlowPlan
from flowql.graph.settings import FlowSettings, pick_free_ports
from flowql.graph.spec import ExecutorSpec
from flowql.graph.uses import uses_for_yaml
from flowql.graph.yaml_config import GATEWAY_PATH_SETTINGS, FlowDocument, read_flow_yaml, write_flow_yaml
from flowql.topology import GATEWAY

__all__ = ["FlowBase", "FloatingExecutorWarning", "FlowState", "reachable_host"]

logger = logging.getLogger("flowql.flow")


class FloatingExecutorWarning(UserWarning):
    """Executors that nothing consumes and that do not feed the end: their results reach no caller."""


class FlowState(enum.Enum):
    BUILDING = "building"
    RUNNING = "running"


class FlowBase:
    """Everything `Flow` and `AsyncFlow` share: building, validation, YAML, plotting, start and stop."""

    # Whether `post` is iterated with `async for` (AsyncFlow); saved to YAML as `asyncio: true`.
    is_async: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        """Gateway settings: `port` (int or list; `port_expose`), `protocol` ('grpc', 'http', 'websocket' or a
        list), `host`, `prefetch`, `timeout_send` (ms), `retries`, `compression`, `name`, plus `timeout_ready`
        (ms, -1 for no bound) and `env` for every process. Free ports are picked when none is given."""
        options.pop("asyncio", None)
        settings = FlowSettings.from_options(options)
        if not settings.ports_given:
            gateway = settings.gateway
            gateway.ports = pick_free_ports(gateway.host, len(gateway.protocols))
        self._plan = FlowPlan(settings=settings)
        self._state = FlowState.BUILDING
        self._launcher: FlowLauncher | None = None
        self._running: RunningFlow | None = None
        self._signals = ExitSignals()
        self._startup_seconds: float | None = None

    # ---- building -------------------------------------------------------------------------------

    def add(self, **options: Any) -> Self:
        """Add an executor; returns this Flow so calls chain.

        Keywords (also the keys of a YAML `executors:` entry): `name` (default `executor<N>`), `uses`
        (class, name, `module:Class`, YAML path or string, dict), `uses_with`, `uses_metas`,
        `uses_requests`, `py_modules`, `needs` (name, list or 'gateway'; default the previous executor),
        `replicas`, `shards` (alias `parallel`), `polling` ('ANY'/'ALL'/'ALL_ASYNC' or endpoint -> mode),
        `floating`, `when`, `no_reduce`, `host`, `port`, `external`, `env`, `timeout_ready` (ms),
        `workspace`, `grace` (s).
        """
        self._refuse_when_running("add executors to")
        candidate = _with_executor(self._plan, options)
        candidate.validate()
        self._plan = candidate
        return self

    def needs(self, needs: str | Sequence[str], name: str | None = None, **options: Any) -> Self:
        """Add an executor that joins `needs` (their documents merged by id unless `no_reduce=True`)."""
        if name is not None:
            options["name"] = name
        return self.add(needs=needs if isinstance(needs, str) else list(needs), **options)

    def needs_all(self, name: str | None = None, **options: Any) -> Self:
        """Add an executor that joins every executor nothing consumes yet."""
        return self.needs(self._plan.unconsumed() or [GATEWAY], name=name, **options)

    def _refuse_when_running(self, action: str) -> None:
        if self._state is FlowState.RUNNING:
            raise ConfigurationError(f"cannot {action} a running Flow; change it outside the `with` block")

    @property
    def executors(self) -> tuple[ExecutorSpec, ...]:
        """Copies of the executors' specs, in the order they were added."""
        return tuple(copy.deepcopy(self._plan.executors))

    @property
    def plan(self) -> FlowPlan:
        """A copy of the Flow's plan: settings, executors, topology builder (what an exporter reads)."""
        return copy.deepcopy(self._plan)

    # ---- YAML -----------------------------------------------------------------------------------

    @classmethod
    def load_config(cls, source: str | os.PathLike[str]) -> Self:
        """A Flow from a YAML file path or a YAML string (`jtype: Flow`, `with:`, `executors:`)."""
        document = read_flow_yaml(source)
        flow = cls(**document.flow_options)
        plan = flow._plan
        for entry in document.executors:
            plan = _with_executor(plan, entry)
        # Validated as a whole, so a `needs` on an executor listed later is named as such.
        plan.validate()
        flow._plan = plan
        return flow

    def save_config(self, path: str | os.PathLike[str]) -> None:
        """Write this Flow as YAML that `load_config` turns back into the same Flow."""
        flow_options = self._plan.settings.to_options()
        for key in GATEWAY_PATH_SETTINGS:
            # A YAML's relative paths are read from its own folder: write where this Flow's paths point.
            if isinstance(flow_options.get(key), str):
                flow_options[key] = os.path.abspath(flow_options[key])
        if self.is_async:
            flow_options["asyncio"] = True
        document = FlowDocument(
            flow_options=flow_options,
            executors=[spec.to_options(uses_for_yaml(spec.uses)) for spec in self._plan.executors],
        )
        write_flow_yaml(path, document)

    # ---- plotting -------------------------------------------------------------------------------

    def plot(self, path: str | os.PathLike[str] = "flow.svg") -> Self:
        """Draw the graph to `path` (SVG, or PNG when it ends in .png); returns this Flow."""
        from flowql.graph.plot import render_flow

        render_flow(self._plan, path)
        return self

    def _repr_svg_(self) -> str | None:
        from flowql.graph.plot import flow_graph

        try:
            svg: bytes = flow_graph(self._plan).pipe(format="svg")
            return svg.decode()
        except Exception:  # no `dot` binary: let the notebook fall back to the text repr
            return None

    # ---- deployment exports ---------------------------------------------------------------------

    def to_kubernetes_yaml(
        self,
        output_dir: str | os.PathLike[str],
        k8s_namespace: str | None = None,
        image: str = "flowql:latest",
        *,
        project_root: str | os.PathLike[str] | None = None,
    ) -> list[Path]:
        """Write Kubernetes manifests and a kustomization.yaml for this Flow into `output_dir` (docs/kubernetes.md).

        `uses`/`py_modules` paths are written relative to `project_root` (default: the working directory).
        """
        from flowql.graph.kubernetes import write_kubernetes

        root = None if project_root is None else Path(project_root)
        return write_kubernetes(self._plan, output_dir, namespace=k8s_namespace, image=image, project_root=root)

    def to_docker_compose_yaml(
        self,
        path: str | os.PathLike[str] = "docker-compose.yml",
        image: str = "flowql:latest",
        *,
        project_root: str | os.PathLike[str] | None = None,
    ) -> Path:
        """Write one Docker Compose file that runs this Flow on a single host (docs/kubernetes.md)."""
        from flowql.graph.docker_compose import write_docker_compose

        root = None if project_root is None else Path(project_root)
        return write_docker_compose(self._plan, path, image=image, project_root=root)

    # ---- addresses ------------------------------------------------------------------------------

    @property
    def protocols(self) -> list[str]:
        return list(self._plan.settings.gateway.protocols)

    @property
    def protocol(self) -> str:
        """The gateway's first protocol."""
        return self.protocols[0]

    @property
    def host(self) -> str:
        """Where the gateway listens (0.0.0.0: every interface)."""
        return self._plan.settings.gateway.host

    @property
    def ports(self) -> list[int]:
        """The gateway's ports, one per protocol (the bound ones once running)."""
        if self._running is not None:
            return [int(url.rsplit(":", 1)[1]) for url in self._running.gateway_urls]
        return list(self._plan.settings.gateway.ports)

    @property
    def port(self) -> int:
        """The gateway's first port."""
        return self.ports[0]

    @property
    def port_expose(self) -> int:
        """The older seed texts' name for `port`."""
        return self.port

    @property
    def addresses(self) -> list[str]:
        """`scheme://host:port` per gateway protocol (grpc://, http://, ws://; grpcs://... with TLS), reachable here."""
        host = reachable_host(self.host)
        tls = self._plan.settings.gateway.ssl_certfile is not None
        return [
            f"{_scheme(protocol, tls)}://{host}:{port}"
            for protocol, port in zip(self.protocols, self.ports, strict=True)
        ]

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def pids(self) -> dict[str, list[int]]:
        """Process ids of the running Flow by executor name (and the gateway's name)."""
        return self._launcher.pids if self._launcher is not None else {}

    @property
    def startup_seconds(self) -> float | None:
        """How long the last start took, from the first process started to the gateway serving."""
        return self._startup_seconds

    def __repr__(self) -> str:
        names = ", ".join(spec.name for spec in self._plan.executors)
        return f"<{type(self).__name__} [{names}] {self._state.value} at {', '.join(self.addresses)}>"

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start every process and wait until the gateway serves; prefer `with f:`."""
        self._refuse_when_running("start")
        floating = self._plan.implicitly_floating()
        if floating:
            warnings.warn(
                f"executor(s) {floating} feed nothing and are not the Flow's end, so they are floating: "
                "they get every request but their results reach no caller. Join them with .needs([...]) "
                "or add floating=True to say it is meant.",
                FloatingExecutorWarning,
                stacklevel=3,
            )
        launcher = FlowLauncher(self._plan)
        # Installed first, so a SIGTERM while starting also stops what has started.
        self._signals.install()
        try:
            self._running = launcher.start()
        except BaseException:
            self._signals.restore()
            raise
        self._startup_seconds = self._running.startup_seconds
        self._launcher = launcher
        self._state = FlowState.RUNNING
        self._announce(self._running)
        return self

    def close(self) -> None:
        """Stop the gateway, then the executors; the Flow can be changed and started again afterwards."""
        self._close_client()
        if self._launcher is not None:
            self._launcher.stop()
        self._launcher = None
        self._running = None
        self._state = FlowState.BUILDING
        self._signals.restore()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def block(self, stop_event: threading.Event | None = None) -> None:
        """Serve until Ctrl-C, SIGTERM, or `stop_event` is set.

        An executor process that dies is logged (its other replicas, if any, keep serving); a dead
        gateway ends the wait with a FlowQLError, since nothing can be served any more.
        """
        event = stop_event if stop_event is not None else threading.Event()
        self._signals.stop_event = event
        reported: set[int] = set()
        try:
            while not event.wait(0.5):
                launcher = self._launcher
                if launcher is None:
                    continue
                for name, pid, status in launcher.exited():
                    if pid not in reported:
                        reported.add(pid)
                        logger.error("process %d of %r exited with status %d", pid, name, status)
                if launcher.gateway_exited():
                    raise FlowQLError("the Flow's gateway exited; nothing is served any more")
        except KeyboardInterrupt:
            pass
        finally:
            self._signals.stop_event = None

    def _announce(self, running: RunningFlow) -> None:
        processes = self._plan.process_count()
        lines = [
            f"flowql: Flow ready in {running.startup_seconds:.2f} s "
            f"({len(self._plan.executors)} executor(s), {processes} executor process(es))"
        ]
        lines.extend(f"  {url}" for url in self.addresses)
        print("\n".join(lines), file=sys.stderr, flush=True)

    # ---- the client -----------------------------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        """Keywords for a Client of this running Flow: gRPC when the gateway speaks it, TLS when it uses TLS."""
        if self._state is not FlowState.RUNNING:
            raise FlowQLError("the Flow is not running; send requests inside `with f:`")
        protocols = self.protocols
        protocol = "grpc" if "grpc" in protocols else protocols[0]
        options: dict[str, Any] = {
            "host": reachable_host(self.host),
            "port": self.ports[protocols.index(protocol)],
            "protocol": protocol,
        }
        certificate = self._plan.settings.gateway.ssl_certfile
        if certificate is not None:
            # The gateway's own certificate is what the client trusts (typically self-signed).
            options.update(tls=True, root_certificates=certificate)
        return options

    def _get_client(self) -> Any:
        """Subclasses make (once) the client `post` sends through: a `Client` or an `AsyncClient`."""
        raise NotImplementedError

    def _close_client(self) -> None:
        """Subclasses close the client they made for `post`."""

    def post(self, on: str, inputs: Any = None, **kwargs: Any) -> Any:
        """Send `inputs` to endpoint `on`, with the arguments and return rules of the client's `post`.

        `Flow.post` blocks and returns results like `flowql.Client.post`; `AsyncFlow.post` is iterated
        with `async for`, like `flowql.AsyncClient.post`.
        """
        return self._get_client().post(on, inputs, **kwargs)

    def index(self, inputs: Any = None, **kwargs: Any) -> Any:
        return self.post("/index", inputs, **kwargs)

    def search(self, inputs: Any = None, **kwargs: Any) -> Any:
        return self.post("/search", inputs, **kwargs)

    def update(self, inputs: Any = None, **kwargs: Any) -> Any:
        return self.post("/update", inputs, **kwargs)

    def delete(self, inputs: Any = None, **kwargs: Any) -> Any:
        return self.post("/delete", inputs, **kwargs)


def _with_executor(plan: FlowPlan, options: dict[str, Any]) -> FlowPlan:
    """A new plan with one more executor, named and connected by position when not told otherwise."""
    options = dict(options)
    options.setdefault("name", f"executor{len(plan.executors)}")
    spec = ExecutorSpec.from_options(options)
    if not spec.needs:
        spec.needs = [plan.last_result() or GATEWAY]
    return FlowPlan(settings=plan.settings, executors=[*plan.executors, spec])


def _scheme(protocol: str, tls: bool) -> str:
    """The URI scheme a client uses for a gateway protocol (the forms `flowql.Client(host=...)` takes)."""
    plain, secure = {"grpc": ("grpc", "grpcs"), "http": ("http", "https"), "websocket": ("ws", "wss")}[protocol]
    return secure if tls else plain
