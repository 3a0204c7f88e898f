"""GraphQL gateway benchmark: a one-executor Flow against a bare strawberry echo server (the floor).

    .venv/bin/python benchmarks/graphql.py [--runs 3] [--requests 2000] [--events 20000]

Starts, as separate processes: one `flowql executor` (BenchExecutor below), one `flowql gateway`
serving HTTP, one bare strawberry app on uvicorn (an echo mutation and an echo subscription with
the same parser/validation caches: the floor), and, for each measurement, a client process. With
two or more cores the client is pinned to the last core and the servers to the others (taskset).

Figures (median of --runs runs):
- single-document mutation latency, sequential on one keep-alive connection: p50 / p99 (ms)
- 100-document mutations, sequential: documents per second
- one subscription over graphql-transport-ws: events per second (a generator endpoint yielding
  --events documents; the floor yields as many events from an async generator), and, as its
  ceiling, the executor's own ProcessStream rate read directly over gRPC
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file is named like the
# `graphql` package strawberry imports: take the folder off the path before anything imports it.
if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import contextlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

REPO = Path(__file__).resolve().parent.parent

SINGLE = 'mutation { docs(data: {text: "hello world"}, execEndpoint: "/echo") { id text } }'
BATCH = 'mutation ($d: [DocumentInput!]) { docs(data: $d, execEndpoint: "/echo") { id text } }'
STREAM = "subscription ($d: [DocumentInput!]!) { count(data: $d) { text } }"
FLOOR_SINGLE = 'mutation { echo(text: "hello world") { id text } }'
FLOOR_BATCH = "mutation ($d: [EchoInput!]!) { echoMany(data: $d) { id text } }"
FLOOR_STREAM = "subscription ($n: Int!) { count(n: $n) { text } }"


# -- the floor: bare strawberry on Starlette --------------------------------------------------------


def serve_floor() -> None:
    import asyncio
    import gc
    import importlib.util

    import uvicorn

    spec = importlib.util.spec_from_file_location("graphql_floor", Path(__file__).with_name("graphql_floor.py"))
    assert spec is not None and spec.loader is not None
    floor = importlib.util.module_from_spec(spec)
    sys.modules["graphql_floor"] = floor  # strawberry looks the types' module up there
    spec.loader.exec_module(floor)
    app = floor.create_floor_app()

    async def main() -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn has no started event to await
            await asyncio.sleep(0.01)
        gc.collect()
        gc.freeze()
        print(f"floor serving on http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", flush=True)
        await task

    asyncio.run(main())


# -- the client (a separate process per measurement) ---------------------------------------------------


def _post(connection: http.client.HTTPConnection, body: bytes) -> dict[str, Any]:
    connection.request("POST", "/graphql", body, {"content-type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 200 or payload.get("errors"):
        raise RuntimeError(f"bad answer {response.status}: {str(payload)[:300]}")
    return payload


def client_latency(url: str, query: str, requests: int) -> dict[str, float]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    body = json.dumps({"query": query}).encode()
    for _ in range(200):
        _post(connection, body)
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        _post(connection, body)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "p50_ms": samples[len(samples) // 2] * 1e3,
        "p99_ms": samples[int(len(samples) * 0.99)] * 1e3,
        "rps": len(samples) / sum(samples),
    }


def client_batch(url: str, query: str, requests: int, size: int) -> dict[str, float]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    body = json.dumps({"query": query, "variables": {"d": [{"text": f"document {i}"} for i in range(size)]}}).encode()
    for _ in range(20):
        _post(connection, body)
    start = time.perf_counter()
    for _ in range(requests):
        answer = _post(connection, body)
    elapsed = time.perf_counter() - start
    returned = len(next(iter(answer["data"].values())))
    assert returned == size, returned
    return {"docs_per_s": requests * size / elapsed}


def client_stream(url: str, query: str, variables: dict[str, Any], events: int) -> dict[str, float]:
    from websockets.sync.client import connect

    # No permessage-deflate: events are small, and compressing each costs both ends more than it saves.
    url = url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], compression=None) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv())["type"] == "connection_ack"
        ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query, "variables": variables}}))
        received = 0
        first = last = 0.0
        while True:
            message = json.loads(ws.recv(timeout=60))
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    raise RuntimeError(message["payload"]["errors"])
                received += 1
                last = time.perf_counter()
                if received == 1:
                    first = last
            elif message["type"] == "complete":
                break
            else:
                raise RuntimeError(message)
    assert received == events, received
    return {"events_per_s": (received - 1) / (last - first)}


def client_executor_stream(address: str, events: int) -> dict[str, float]:
    """The ceiling of the subscription figure: the executor's own ProcessStream over gRPC."""
    import asyncio

    import grpc

    from flowql.codec import encode_docs
    from flowql.documents import Document
    from flowql.proto.flowql_pb2_grpc import ExecutorServiceStub
    from flowql.request import new_request

    async def run() -> float:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = ExecutorServiceStub(channel)
            request = new_request("/count", docs=encode_docs([Document(text=str(events))]))
            received, first, last = 0, 0.0, 0.0
            async for _ in stub.ProcessStream(request):
                received += 1
                last = time.perf_counter()
                if received == 1:
                    first = last
            assert received == events, received
            return (received - 1) / (last - first)

    return {"events_per_s": asyncio.run(run())}


# -- orchestration -------------------------------------------------------------------------------------


class Process:
    def __init__(self, argv: list[str], cpus: str | None, log: Path) -> None:
        prefix = ["taskset", "-c", cpus] if cpus else []
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.popen = subprocess.Popen(prefix + argv, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)

    def ready_line(self) -> str:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"{self.popen.args} exited: see {self.log.name}")
        return line

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
        self.log.close()


def cpu_sets() -> tuple[str | None, str | None]:
    count = os.cpu_count() or 1
    if count < 2 or shutil.which("taskset") is None:
        return None, None
    return f"0-{count - 2}", str(count - 1)


def run_client(cpus: str | None, *args: str) -> dict[str, float]:
    prefix = ["taskset", "-c", cpus] if cpus else []
    out = subprocess.run(
        prefix + [sys.executable, __file__, "--client", *args], capture_output=True, text=True, check=False, timeout=600
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def start_servers(tmp: Path, server_cpus: str | None) -> Iterator[tuple[str, str]]:
    from flowql.app.settings import GatewaySettings
    from flowql.executors.settings import WorkerSettings
    from flowql.topology import ExecutorNode, Topology

    executor_module = Path(__file__).resolve().with_name("graphql_executor.py")
    worker = WorkerSettings(name="bench", uses="BenchExecutor", py_modules=[str(executor_module)])
    executor = Process(
        [sys.executable, "-m", "flowql", "executor", *worker.to_argv()], server_cpus, tmp / "executor.log"
    )
    processes = [executor]
    try:
        address = executor.ready_line().rsplit(" ", 1)[-1]
        topology = tmp / "topology.json"
        Topology(nodes=[ExecutorNode(name="bench", needs=["gateway"], shards=[[address]])], end=["bench"]).save(
            topology
        )
        settings = GatewaySettings(host="127.0.0.1", protocols=["http"], ports=[0], topology=str(topology))
        gateway = Process([sys.executable, "-m", "flowql", "gateway", *settings.to_argv()], server_cpus, tmp / "gw.log")
        processes.append(gateway)
        gateway_url = gateway.ready_line().rsplit(" ", 1)[-1].rstrip("/")
        floor = Process([sys.executable, __file__, "--serve-floor"], server_cpus, tmp / "floor.log")
        processes.append(floor)
        floor_url = floor.ready_line().rsplit(" ", 1)[-1]
        yield gateway_url, floor_url, address
    finally:
        for process in reversed(processes):
            process.stop()


def measure(
    gateway: str, floor: str, executor: str, client_cpus: str | None, requests: int, events: int
) -> dict[str, float]:
    figures: dict[str, float] = {}
    single = run_client(client_cpus, "latency", gateway, SINGLE, str(requests))
    figures.update({"flowql_p50_ms": single["p50_ms"], "flowql_p99_ms": single["p99_ms"]})
    batch = run_client(client_cpus, "batch", gateway, BATCH, str(max(20, requests // 20)), "100")
    figures["flowql_docs_per_s_at_100"] = batch["docs_per_s"]
    stream = run_client(client_cpus, "stream", gateway, STREAM, json.dumps({"d": [{"text": str(events)}]}), str(events))
    figures["flowql_subscription_events_per_s"] = stream["events_per_s"]
    ceiling = run_client(client_cpus, "executor-stream", executor, "", str(events))
    figures["executor_alone_stream_msgs_per_s"] = ceiling["events_per_s"]
    floor_single = run_client(client_cpus, "latency", floor, FLOOR_SINGLE, str(requests))
    figures.update({"floor_p50_ms": floor_single["p50_ms"], "floor_p99_ms": floor_single["p99_ms"]})
    floor_batch = run_client(client_cpus, "batch", floor, FLOOR_BATCH, str(max(20, requests // 20)), "100")
    figures["floor_docs_per_s_at_100"] = floor_batch["docs_per_s"]
    floor_stream = run_client(client_cpus, "stream", floor, FLOOR_STREAM, json.dumps({"n": events}), str(events))
    figures["floor_subscription_events_per_s"] = floor_stream["events_per_s"]
    return figures


TARGETS = {
    "flowql_p50_ms": ("<=", 2.0),
    "flowql_p99_ms": ("<=", 8.0),
    "flowql_docs_per_s_at_100": (">=", 6000.0),
    "flowql_subscription_events_per_s": (">=", 5000.0),
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per latency run")
    parser.add_argument("--events", type=int, default=20000, help="events of the subscription run")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    args = parser.parse_args(argv)
    server_cpus, client_cpus = (None, None) if args.no_pin else cpu_sets()
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp, start_servers(Path(tmp), server_cpus) as (gateway, floor, executor):
        print(f"gateway {gateway}, floor {floor}, servers on cpus {server_cpus}, client on {client_cpus}", flush=True)
        for run in range(args.runs):
            runs.append(measure(gateway, floor, executor, client_cpus, args.requests, args.events))
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.2f}" for k, v in runs[-1].items()), flush=True)
    print(f"\nmedian of {len(runs)} runs:")
    ok = True
    for key in runs[0]:
        value = statistics.median(run[key] for run in runs)
        target = TARGETS.get(key)
        verdict = ""
        if target is not None:
            passed = value <= target[1] if target[0] == "<=" else value >= target[1]
            ok = ok and passed
            verdict = f"   target {target[0]} {target[1]:g}: {'ok' if passed else 'MISSED'}"
        print(f"  {key:36s} {value:12.2f}{verdict}")
    return 0 if ok else 1


def client_main(argv: list[str]) -> int:
    mode, url, query, *rest = argv
    if mode == "latency":
        result = client_latency(url, query, int(rest[0]))
    elif mode == "executor-stream":
        result = client_executor_stream(url, int(rest[0]))
    elif mode == "batch":
        result = client_batch(url, query, int(rest[0]), int(rest[1]))
    else:
        result = client_stream(url, query, json.loads(rest[0]), int(rest[1]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-floor"]:
        serve_floor()
    elif sys.argv[1:2] == ["--client"]:
        sys.exit(client_main(sys.argv[2:]))
    else:
        sys.exit(main(sys.argv[1:]))
