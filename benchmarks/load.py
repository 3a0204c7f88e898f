"""Load generators, each run in its own process by `harness.run_load`: `load.py <mode> '<json args>'`.

Every mode builds its workload before the clock starts, checks the document count of every
answer (a lost document raises, and the benchmark fails), and prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic.warnings import PydanticDeprecatedSince20

warnings.filterwarnings("ignore", category=PydanticDeprecatedSince20)  # docarray's own, at import

# Run as a script, this folder comes first on sys.path, where graphql.py would shadow the graphql
# package: take it off; the sibling modules are imported as `benchmarks.*` (the repo is on PYTHONPATH).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from flowql.documents import Document  # noqa: E402


def make_docs(count: int, chars: int = 100, blob_bytes: int = 0) -> list[Document]:
    if blob_bytes:
        return [Document(blob=os.urandom(blob_bytes)) for _ in range(count)]
    return [Document(text=(f"{i:06d}" + "x" * chars)[:chars]) for i in range(count)]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Counter:
    """An `on_done` callback that counts the documents and requests answered, and the failures."""

    def __init__(self, request_size: int) -> None:
        self.docs = 0
        self.responses = 0
        self.short = 0
        self.request_size = request_size

    def __call__(self, response: Any) -> None:
        returned = len(response.docs)
        self.docs += returned
        self.responses += 1
        if returned != self.request_size:
            self.short += 1


def _check(counter: Counter, expected: int) -> None:
    if counter.docs != expected:
        raise SystemExit(f"documents lost: sent {expected}, got back {counter.docs} in {counter.responses} answers")


def post_throughput(protocol: str, port: int, docs: int, request_size: int, runs: int, **kw: Any) -> dict[str, Any]:
    """`Client.post` of `docs` documents in batches of `request_size`: docs/s per run."""
    from flowql.client import Client

    workload = make_docs(docs, kw.get("chars", 100), kw.get("blob_bytes", 0))
    endpoint = kw.get("endpoint", "/")
    client = Client(host="127.0.0.1", port=port, protocol=protocol)
    warm = Counter(min(request_size, docs))
    client.post(endpoint, workload[: request_size * 2], request_size=request_size, on_done=warm)
    rates = []
    for _ in range(runs):
        counter = Counter(request_size)
        gc.collect()
        start = time.perf_counter()
        client.post(endpoint, workload, request_size=request_size, on_done=counter)
        elapsed = time.perf_counter() - start
        _check(counter, docs)
        rates.append(docs / elapsed)
    client.close()
    return {"docs_per_s": rates}


def post_latency(protocol: str, port: int, requests: int, runs: int, **kw: Any) -> dict[str, Any]:
    """Sequential single-document `Client.post` calls: p50 / p99 in ms per run."""
    from flowql.client import Client

    doc = make_docs(1)
    client = Client(host="127.0.0.1", port=port, protocol=protocol)
    for _ in range(100):
        client.post("/", doc)
    p50, p99 = [], []
    for _ in range(runs):
        samples = []
        gc.collect()
        for _ in range(requests):
            start = time.perf_counter()
            answer = client.post("/", doc)
            samples.append(time.perf_counter() - start)
            if len(answer) != 1:
                raise SystemExit(f"documents lost: got {len(answer)} back for 1")
        p50.append(percentile(samples, 0.5) * 1e3)
        p99.append(percentile(samples, 0.99) * 1e3)
    client.close()
    return {"p50_ms": p50, "p99_ms": p99}


def stream_million(port: int, docs: int, request_size: int, **kw: Any) -> dict[str, Any]:
    """`Client.post` with a generator input: the client's RSS at the first answer and its peak after."""
    from benchmarks.harness import rss_kib
    from flowql.client import Client

    pid = os.getpid()
    counter = Counter(request_size)
    samples: list[int] = []

    def on_done(response: Any) -> None:
        counter(response)
        if counter.responses % 50 == 1:
            samples.append(rss_kib(pid))

    def generate() -> Iterator[Document]:
        for i in range(docs):
            yield Document(text=(f"{i:07d}" + "x" * 100)[:100])

    client = Client(host="127.0.0.1", port=port)
    start = time.perf_counter()
    client.post("/", generate(), request_size=request_size, on_done=on_done)
    elapsed = time.perf_counter() - start
    samples.append(rss_kib(pid))
    client.close()
    _check(counter, docs)
    # The baseline is the first answer: the client, its channel and one window of requests exist.
    return {
        "docs_per_s": docs / elapsed,
        "rss_start_mib": samples[0] / 1024,
        "rss_peak_mib": max(samples) / 1024,
        "rss_growth_mib": (max(samples) - samples[0]) / 1024,
    }


def concurrent_clients(port: int, clients: int, docs_each: int, request_size: int, **kw: Any) -> dict[str, Any]:
    """`clients` AsyncClients posting at once (one event loop): total docs/s and per-request p99."""
    from flowql.client import Client

    workload = make_docs(docs_each)

    async def one(latencies: list[float]) -> int:
        client = Client(host="127.0.0.1", port=port, asyncio=True)
        got = 0
        async with client:
            sent = time.perf_counter()
            async for response in client.post("/", workload, request_size=request_size, prefetch=1):
                now = time.perf_counter()
                latencies.append(now - sent)
                sent = now
                got += len(response.docs)
        return got

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        await asyncio.gather(*(one([]) for _ in range(min(clients, 2))))  # warm-up
        start = time.perf_counter()
        got = await asyncio.gather(*(one(latencies) for _ in range(clients)))
        elapsed = time.perf_counter() - start
        if sum(got) != clients * docs_each:
            raise SystemExit(f"documents lost: {sum(got)} of {clients * docs_each}")
        return {"docs_per_s": sum(got) / elapsed, "p99_ms": percentile(latencies, 0.99) * 1e3}

    return asyncio.run(run())


def open_loop(port: int, rate: float, seconds: float, **kw: Any) -> dict[str, Any]:
    """Requests of one document sent on a fixed schedule (not waiting for answers) to the gateway's
    unary Process: latency percentiles at that offered load."""
    import grpc
    from docarray.proto import DocListProto

    from flowql.codec import encode_docs
    from flowql.proto.flowql_pb2_grpc import GatewayServiceStub
    from flowql.request import new_request

    payload = encode_docs(make_docs(1))
    total = int(rate * seconds)
    requests = [new_request("/", docs=payload) for _ in range(total + 50)]

    async def run() -> dict[str, Any]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = GatewayServiceStub(channel)
            for request in requests[total:]:
                await stub.Process(request)
            latencies: list[float] = []
            lost = 0

            async def one(request: Any) -> None:
                nonlocal lost
                sent = time.perf_counter()
                try:
                    answer = await stub.Process(request)
                except grpc.aio.AioRpcError as exc:
                    failures[exc.code().name] = failures.get(exc.code().name, 0) + 1
                    return
                latencies.append(time.perf_counter() - sent)
                lost += answer.status.code != 0 or len(DocListProto.FromString(answer.docs).docs) != 1

            failures: dict[str, int] = {}
            loop = asyncio.get_running_loop()
            tasks = []
            start = loop.time()
            for i, request in enumerate(requests[:total]):
                due = start + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(request)))
            await asyncio.gather(*tasks)
            achieved = total / (loop.time() - start)
        if lost:
            raise SystemExit(f"{lost} answers failed or lost their document")
        # Calls that failed at the transport (overload) are counted, not hidden; their latency is not.
        return {
            "achieved_per_s": achieved,
            "failed": sum(failures.values()),
            "failures": failures,
            **{f"p{int(q * 100)}_ms": percentile(latencies, q) * 1e3 for q in (0.5, 0.9, 0.99)},
        }

    return asyncio.run(run())


def grpc_echo(
    address: str, docs_per_request: int, concurrency: int, calls: int, runs: int, **kw: Any
) -> dict[str, Any]:
    """The gRPC floor: unary calls of a DataRequest carrying the same documents to an echo server."""
    from benchmarks.floors import echo_client

    payload_docs = make_docs(docs_per_request)
    return echo_client(address, payload_docs, concurrency, calls, runs)


def grpc_stream_echo(address: str, docs_per_request: int, messages: int, runs: int, **kw: Any) -> dict[str, Any]:
    """The pipelined floor: DataRequests echoed over one bidirectional stream."""
    from benchmarks.floors import stream_echo_client

    return stream_echo_client(address, make_docs(docs_per_request), messages, runs)


def flow_start(executors: int, runs: int, **kw: Any) -> dict[str, Any]:
    """Flow with `executors` NoOp executors: seconds to start (ready) and to close."""
    from benchmarks.harness import EXECUTORS
    from flowql.graph import Flow

    starts, closes = [], []
    for _ in range(runs + 1):  # the first run warms the page cache and is dropped
        flow = Flow()
        for i in range(executors):
            flow = flow.add(name=f"e{i}", uses="NoOp", py_modules=[EXECUTORS])
        began = time.perf_counter()
        flow.start()
        ready = time.perf_counter()
        got = flow.post("/", make_docs(3))
        if len(got) != 3:
            raise SystemExit(f"documents lost: {len(got)} of 3")
        closing = time.perf_counter()
        flow.close()
        starts.append(ready - began)
        closes.append(time.perf_counter() - closing)
    return {"start_s": starts[1:], "close_s": closes[1:]}


MODES: dict[str, Callable[..., dict[str, Any]]] = {
    "post": post_throughput,
    "latency": post_latency,
    "stream": stream_million,
    "clients": concurrent_clients,
    "open-loop": open_loop,
    "grpc-echo": grpc_echo,
    "grpc-stream-echo": grpc_stream_echo,
    "flow-start": flow_start,
}

if __name__ == "__main__":
    mode, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(MODES[mode](**arguments)), flush=True)
