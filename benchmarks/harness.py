"""Process plumbing for the benchmarks: servers and load generators as separate, pinned processes.

- `Server`: one child process (an executor, a gateway, a floor server) started with its ready line
  read from stdout; `stop()` terminates it and reports its peak RSS (VmHWM) read just before.
- `Mesh`: N executor processes + one gateway process over a topology built here (a chain, a
  fan-out + join, replicas), the shape each figure needs.
- `run_load(...)`: runs `benchmarks/load.py <mode>` in its own process and returns its JSON.
- `CpuPlan`: which cores servers and load generators are pinned to. On 2 cores the servers share
  core 0 and the load generator gets core 1, as STACK-FACTS advises; on one core nothing is pinned.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
EXECUTORS = str(HERE / "bench_executors.py")


@dataclass(frozen=True)
class CpuPlan:
    """Core sets for the server processes and for the load generator (None: not pinned)."""

    servers: str | None
    load: str | None

    @classmethod
    def detect(cls, pin: bool = True) -> CpuPlan:
        count = os.cpu_count() or 1
        if not pin or count < 2 or shutil.which("taskset") is None:
            return cls(None, None)
        return cls(f"0-{count - 2}", str(count - 1))

    def describe(self) -> str:
        if self.servers is None:
            return "not pinned"
        return f"servers on cores {self.servers}, load generator on core {self.load}"


def _pinned(argv: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *argv] if cpus else argv


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("http_proxy", None)
    env.pop("https_proxy", None)
    return env


class Server:
    """A child process that prints one ready line on stdout once it serves."""

    def __init__(self, argv: list[str], cpus: str | None, log: Path) -> None:
        self.log = log
        self._log_file = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            _pinned(argv, cpus), stdout=subprocess.PIPE, stderr=self._log_file, text=True, env=_env(), cwd=REPO
        )
        self.peak_rss_kib = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def ready_line(self) -> str:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline().strip()
        if not line:
            self.popen.wait(5)
            raise RuntimeError(f"{self.popen.args} exited ({self.popen.returncode}): see {self.log}")
        return line

    def stop(self) -> None:
        self.peak_rss_kib = tree_peak_rss_kib(self.pid)
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self._log_file.close()


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def tree_peak_rss_kib(pid: int) -> int:
    """Sum over the process tree of each process's peak resident set (VmHWM)."""
    return sum(_status_kib(member, "VmHWM:") for member in process_tree(pid))


def rss_kib(pid: int) -> int:
    """Current resident set of one process (VmRSS)."""
    return _status_kib(pid, "VmRSS:")


@dataclass
class Node:
    """One executor of a benchmark mesh."""

    name: str
    needs: list[str]
    uses: str = "NoOp"
    replicas: int = 1
    uses_with: dict[str, Any] = field(default_factory=dict)


def chain(length: int, uses: str = "NoOp") -> list[Node]:
    names = [f"e{i}" for i in range(length)]
    return [Node(name, [names[i - 1]] if i else ["gateway"], uses) for i, name in enumerate(names)]


def fan_out(width: int = 2) -> list[Node]:
    branches = [Node(f"b{i}", ["gateway"]) for i in range(width)]
    return [*branches, Node("merge", [branch.name for branch in branches])]


class Mesh:
    """Executor processes plus one gateway process serving the given protocols."""

    def __init__(self, nodes: Sequence[Node], cpus: CpuPlan, protocols: Sequence[str] = ("grpc",)) -> None:
        self.nodes = list(nodes)
        self.cpus = cpus
        self.protocols = list(protocols)
        self.executors: list[Server] = []
        self.gateway: Server | None = None
        self.urls: dict[str, str] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="flowql-bench-")

    def __enter__(self) -> Mesh:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from flowql.app.settings import GatewaySettings
        from flowql.executors.settings import WorkerSettings
        from flowql.topology import ExecutorNode, Topology

        tmp = Path(self._tmp.name)
        started: list[tuple[Server, str]] = []
        for node in self.nodes:
            for replica in range(node.replicas):
                settings = WorkerSettings(
                    name=node.name,
                    uses=node.uses,
                    uses_with=node.uses_with,
                    py_modules=[EXECUTORS],
                    replica_id=replica,
                    replicas=node.replicas,
                )
                argv = [sys.executable, "-m", "flowql", "executor", *settings.to_argv()]
                server = Server(argv, self.cpus.servers, tmp / f"{node.name}-{replica}.log")
                self.executors.append(server)
                started.append((server, node.name))
        addresses: dict[str, list[str]] = {node.name: [] for node in self.nodes}
        for server, name in started:  # all started at once; read the ready lines after
            addresses[name].append(server.ready_line().rsplit(" ", 1)[-1])
        consumed = {need for node in self.nodes for need in node.needs}
        topology = Topology(
            nodes=[
                ExecutorNode(name=node.name, needs=node.needs, shards=[addresses[node.name]]) for node in self.nodes
            ],
            end=[node.name for node in self.nodes if node.name not in consumed],
        )
        topology.save(tmp / "topology.json")
        gateway = GatewaySettings(
            host="127.0.0.1",
            protocols=self.protocols,
            ports=[0] * len(self.protocols),
            topology=str(tmp / "topology.json"),
        )
        argv = [sys.executable, "-m", "flowql", "gateway", *gateway.to_argv()]
        self.gateway = Server(argv, self.cpus.servers, tmp / "gateway.log")
        line = self.gateway.ready_line()
        urls = line.split(" serving on ", 1)[1].split()
        self.urls = dict(zip(self.protocols, urls, strict=True))

    def port(self, protocol: str) -> int:
        return int(self.urls[protocol].rstrip("/").rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        for server in self.executors:
            server.stop()
        self._tmp.cleanup()

    def peak_rss_mib(self) -> tuple[float, list[float]]:
        """(gateway's peak RSS, each executor's), MiB, read while they still run."""
        assert self.gateway is not None
        return tree_peak_rss_kib(self.gateway.pid) / 1024, [tree_peak_rss_kib(s.pid) / 1024 for s in self.executors]

    def server_cpu_seconds(self) -> float:
        """CPU time used so far by the gateway and executor processes together."""
        servers = [s for s in [self.gateway, *self.executors] if s is not None]
        return sum(_cpu_seconds(s.pid) for s in servers)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(cpus: CpuPlan, mode: str, timeout: float = 300, **arguments: Any) -> dict[str, Any]:
    """Run one load-generator measurement (`benchmarks/load.py`) in its own process."""
    argv = _pinned([sys.executable, str(HERE / "load.py"), mode, json.dumps(arguments)], cpus.load)
    done = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=REPO, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load {mode} failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def floor_server(kind: str, cpus: CpuPlan) -> Iterator[str]:
    """A floor server (`benchmarks/floors.py serve-<kind>`) in its own process; yields its address."""
    with tempfile.TemporaryDirectory(prefix="flowql-floor-") as tmp:
        server = Server([sys.executable, str(HERE / "floors.py"), f"serve-{kind}"], cpus.servers, Path(tmp) / "log")
        try:
            yield server.ready_line().rsplit(" ", 1)[-1]
        finally:
            server.stop()
