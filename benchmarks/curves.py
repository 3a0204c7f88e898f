"""Scaling curves (full suite only): each a CSV and a PNG under benchmarks/results/.

- chain.csv/png: documents/s vs. chain length (1-8 no-op executors), request_size 100;
- doc_size.csv/png: documents/s and MB/s vs. document size (a blob of 100 B .. 1 MB), one executor;
- clients.csv/png: total documents/s and p99 request latency vs. concurrent clients (1-64);
- replicas.csv/png: documents/s vs. replicas (1-4) of a CPU-bound executor (2 ms CPU per document);
- latency_load.csv/png: p50/p90/p99 latency vs. offered load (single-document requests, open loop).
"""

from __future__ import annotations

import csv
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import HERE, CpuPlan, Mesh, Node, chain, run_load

RESULTS = HERE / "results"


def _write(name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[f"{v:.4g}" if isinstance(v, float) else v for v in row] for row in rows])
    print(f"  wrote {path.relative_to(HERE.parent)}", flush=True)
    return path


def _median_rate(cpus: CpuPlan, port: int, docs: int, request_size: int, **kw: Any) -> float:
    got = run_load(cpus, "post", protocol="grpc", port=port, docs=docs, request_size=request_size, runs=3, **kw)
    rates = sorted(got["docs_per_s"])
    return float(rates[len(rates) // 2])


def chain_curve(cpus: CpuPlan) -> None:
    rows = []
    for length in range(1, 9):
        with Mesh(chain(length), cpus) as mesh:
            rate = _median_rate(cpus, mesh.port("grpc"), 3000, 100)
        rows.append((length, rate))
        print(f"  chain {length}: {rate:,.0f} docs/s", flush=True)
    _write("chain", ["executors", "docs_per_s"], rows)
    from benchmarks import plots

    plots.line(
        "chain",
        [r[0] for r in rows],
        {"no-op executors, request_size 100": [r[1] for r in rows]},
        xlabel="executors in the chain",
        ylabel="throughput (documents/s)",
        title="Throughput vs. chain length (gRPC, 100-char documents)",
    )


def size_curve(cpus: CpuPlan) -> None:
    rows = []
    with Mesh([Node("e0", ["gateway"])], cpus) as mesh:
        for size in (100, 1_000, 10_000, 100_000, 1_000_000):
            docs = max(40, min(4000, 200_000_000 // (size * 4)))
            request_size = max(1, min(100, 10_000_000 // (size * 10)))
            rate = _median_rate(cpus, mesh.port("grpc"), docs, request_size, blob_bytes=size)
            rows.append((size, request_size, rate, rate * size / 1e6))
            print(f"  blob {size} B x{request_size}: {rate:,.0f} docs/s, {rate * size / 1e6:,.1f} MB/s", flush=True)
    _write("doc_size", ["blob_bytes", "request_size", "docs_per_s", "mb_per_s"], rows)
    from benchmarks import plots

    plots.size_plot([r[0] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


def clients_curve(port: int, cpus: CpuPlan) -> None:
    rows = []
    for clients in (1, 2, 4, 8, 16, 32, 64):
        got = run_load(
            cpus, "clients", port=port, clients=clients, docs_each=max(200, 4000 // clients), request_size=10
        )
        rows.append((clients, got["docs_per_s"], got["p99_ms"]))
        print(f"  {clients} clients: {got['docs_per_s']:,.0f} docs/s, p99 {got['p99_ms']:.1f} ms", flush=True)
    _write("clients", ["clients", "docs_per_s", "p99_ms"], rows)
    from benchmarks import plots

    plots.clients_plot([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def replicas_curve(cpus: CpuPlan) -> None:
    # The executors must be able to use every core for replicas to help: servers are not pinned
    # here (the load generator still has its core, so on 2 cores the plateau comes at 1-2 replicas).
    rows = []
    free = CpuPlan(None, cpus.load)
    for replicas in (1, 2, 3, 4):
        node = Node("burn", ["gateway"], uses="Burn", replicas=replicas, uses_with={"ms_per_doc": 2.0})
        with Mesh([node], free) as mesh:
            rate = _median_rate(cpus, mesh.port("grpc"), 600, 10)
        rows.append((replicas, rate))
        print(f"  {replicas} replicas: {rate:,.0f} docs/s", flush=True)
    _write("replicas", ["replicas", "docs_per_s"], rows)
    from benchmarks import plots

    plots.line(
        "replicas",
        [r[0] for r in rows],
        {"2 ms CPU per document, request_size 10": [r[1] for r in rows]},
        xlabel="replicas of the executor",
        ylabel="throughput (documents/s)",
        title=f"Throughput vs. replicas (CPU-bound executor, {os.cpu_count()} cores)",
        ideal=rows[0][1],
    )


def open_loop_curve(port: int, cpus: CpuPlan) -> None:
    rows = []
    for rate in (100, 200, 400, 600, 800, 1000, 1200):
        # Three short runs per point, each figure their median: one stall of the shared machine
        # would otherwise own a whole point of the curve.
        runs = [run_load(cpus, "open-loop", port=port, rate=float(rate), seconds=2.0) for _ in range(3)]
        got = {
            key: statistics.median(run[key] for run in runs) for key in ("achieved_per_s", "p50_ms", "p90_ms", "p99_ms")
        }
        failed = sum(run["failed"] for run in runs)
        rows.append((rate, got["achieved_per_s"], got["p50_ms"], got["p90_ms"], got["p99_ms"], failed))
        print(
            f"  offered {rate}/s: achieved {got['achieved_per_s']:,.0f}/s, p99 {got['p99_ms']:.1f} ms, failed {failed}",
            flush=True,
        )
    _write("latency_load", ["offered_per_s", "achieved_per_s", "p50_ms", "p90_ms", "p99_ms", "failed"], rows)
    from benchmarks import plots

    plots.line(
        "latency_load",
        [r[0] for r in rows],
        {"p50": [r[2] for r in rows], "p90": [r[3] for r in rows], "p99": [r[4] for r in rows]},
        xlabel="offered load (single-document requests/s, open loop)",
        ylabel="latency (ms, log scale)",
        title="Latency percentiles vs. offered load (gRPC, 1 no-op executor)",
        log_y=True,
    )
