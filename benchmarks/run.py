"""flowql's benchmark suite: one command, one table.

    .venv/bin/python benchmarks/run.py           # full suite (make bench), < 10 minutes
    .venv/bin/python benchmarks/run.py --quick   # the main figures with smaller workloads (make bench-quick)

Every server (executors, gateway, floors) and every load generator runs in its own process; with
2+ cores the servers are pinned to all cores but the last and the load generator to the last
(`--no-pin` turns that off). Figures are medians of `--runs` runs (3). Workloads are built before
timing; every answer's document count is checked, and a figure that loses documents fails. The
floors (raw grpc.aio echo, plain Starlette) are measured in the same run; each flowql figure shows
its ratio to its floor. The table also goes to benchmarks/results/summary[-quick].csv, and the full
suite writes the scaling curves (CSV + PNG) beside it. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # graphql.py beside this file would shadow the graphql package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import floors  # noqa: E402
from benchmarks.harness import HERE, CpuPlan, Mesh, Node, chain, fan_out, floor_server, run_load  # noqa: E402
from benchmarks.table import Figure, render, write_csv  # noqa: E402

RESULTS = HERE / "results"


class Suite:
    def __init__(self, quick: bool, runs: int, cpus: CpuPlan) -> None:
        self.quick = quick
        self.runs = runs
        self.cpus = cpus
        self.figures: list[Figure] = []
        self.floor: dict[str, float] = {}

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(
            f"  {figure.name}: median {figure.median:,.2f} {figure.unit}  runs {[round(s, 2) for s in figure.samples]}",
            flush=True,
        )
        return figure

    def guarded(self, name: str, unit: str, measure: Callable[[], None]) -> None:
        """Run one group of measurements; a failure becomes a failed figure, not a crashed suite."""
        try:
            measure()
        except Exception as exc:  # a lost document or a dead server fails that figure, and says why
            print(f"  {name} FAILED: {exc}", flush=True)
            self.figures.append(
                Figure(name, unit, [], error=str(exc).strip().splitlines()[-1] if str(exc) else repr(exc))
            )

    # -- the codec (benchmarks/codec.py's workloads and timing, in this process) ------------------

    def codec(self) -> None:
        import time as clock

        from benchmarks import codec

        sizes = (100,) if self.quick else (100, 1000)
        min_time = 0.05 if self.quick else 0.2
        for size in sizes:
            for workload in codec.build_workloads(size):
                calls = codec.timed_calls(workload)
                for step in ("encode", "decode"):
                    ours = [
                        codec.per_doc_us(calls[step], size, 1, min_time, clock.process_time) for _ in range(self.runs)
                    ]
                    theirs = codec.per_doc_us(calls[f"docarray {step}"], size, 1, min_time, clock.process_time)
                    name = f"codec {step} {workload.name} x{size} (CPU)"
                    self.add(Figure(name, "us/doc", ours, ("<=", codec.BOUND_US), theirs, "docarray"))

    # -- floors ------------------------------------------------------------------------------

    def floors(self) -> None:
        calls = 600 if self.quick else 2000
        with floor_server("grpc", self.cpus) as address:
            for size in (1, 10, 100):
                for concurrency in (1, 16):
                    got = run_load(
                        self.cpus,
                        "grpc-echo",
                        address=address,
                        docs_per_request=size,
                        concurrency=concurrency,
                        calls=calls,
                        runs=self.runs,
                    )
                    key = f"grpc echo c={concurrency} x{size}"
                    self.floor[key] = self.add(Figure(f"floor: {key}", "docs/s", got["docs_per_s"])).median
                    if size == 1 and concurrency == 1:
                        self.floor["grpc echo p50"] = self.add(
                            Figure("floor: grpc echo c=1 p50", "ms", got["p50_ms"])
                        ).median
            for size in (1, 10):
                got = run_load(
                    self.cpus,
                    "grpc-stream-echo",
                    address=address,
                    docs_per_request=size,
                    messages=calls * 2,
                    runs=self.runs,
                )
                self.add(Figure(f"floor: grpc echo bidi stream x{size}", "docs/s", got["docs_per_s"]))
        if not floors.wrk_available():
            print("  wrk not installed: no Starlette floor (apt-get install -y wrk)", flush=True)
            return
        seconds = 2.0 if self.quick else 3.0
        with floor_server("starlette", self.cpus) as url:
            plain = [floors.wrk(url + "/json", seconds=seconds, cpus=self.cpus.load) for _ in range(self.runs)]
            self.add(Figure("floor: starlette GET /json", "req/s", plain))
            body = floors.echo_body(100)
            echo = [
                floors.wrk(url + "/echo", body=body, seconds=seconds, cpus=self.cpus.load) * 100
                for _ in range(self.runs)
            ]
            self.floor["starlette echo x100"] = self.add(
                Figure("floor: starlette JSON echo x100", "docs/s", echo)
            ).median

    # -- one executor: throughput, latency, memory ----------------------------------------------

    def one_executor(self) -> None:
        with Mesh([Node("e0", ["gateway"])], self.cpus, protocols=("grpc", "http", "websocket")) as mesh:
            targets = {1: 1200.0, 10: 9000.0, 100: 25000.0}
            for size in (1, 10, 100):
                docs = (1000 if size == 1 else 4000) if self.quick else (3000 if size == 1 else 10000)
                got = run_load(
                    self.cpus,
                    "post",
                    protocol="grpc",
                    port=mesh.port("grpc"),
                    docs=docs,
                    request_size=size,
                    runs=self.runs,
                )
                floor = self.floor.get(f"grpc echo c=16 x{size}")
                self.add(
                    Figure(
                        f"grpc 1 executor rs={size}",
                        "docs/s",
                        got["docs_per_s"],
                        (">=", targets[size]),
                        floor,
                        "echo c=16",
                    )
                )
            for protocol in ("http", "websocket"):
                docs = 4000 if self.quick else 10000
                got = run_load(
                    self.cpus,
                    "post",
                    protocol=protocol,
                    port=mesh.port(protocol),
                    docs=docs,
                    request_size=100,
                    runs=self.runs,
                )
                floor = self.floor.get("starlette echo x100")
                self.add(
                    Figure(
                        f"{protocol} 1 executor rs=100",
                        "docs/s",
                        got["docs_per_s"],
                        (">=", 12000.0),
                        floor,
                        "starlette echo",
                    )
                )
            if floors.wrk_available():
                # The gateway's HTTP route alone, driven by a C load generator as the floor is: the
                # Python client above saturates its own core first.
                url = mesh.urls["http"].rstrip("/") + "/post"
                body = floors.echo_body(100, execEndpoint="/")
                seconds = 2.0 if self.quick else 3.0
                rates = [
                    floors.wrk(url, body=body, expect_texts=100, seconds=seconds, cpus=self.cpus.load) * 100
                    for _ in range(self.runs)
                ]
                floor = self.floor.get("starlette echo x100")
                self.add(Figure("http POST /post x100 (wrk)", "docs/s", rates, None, floor, "starlette echo"))
            requests = 500 if self.quick else 2000
            got = run_load(
                self.cpus, "latency", protocol="grpc", port=mesh.port("grpc"), requests=requests, runs=self.runs
            )
            self.add(
                Figure(
                    "grpc single-doc latency p50",
                    "ms",
                    got["p50_ms"],
                    ("<=", 1.5),
                    self.floor.get("grpc echo p50"),
                    "echo p50",
                )
            )
            self.add(Figure("grpc single-doc latency p99", "ms", got["p99_ms"], ("<=", 5.0)))
            if not self.quick:
                from benchmarks import curves

                curves.clients_curve(mesh.port("grpc"), self.cpus)
                curves.open_loop_curve(mesh.port("grpc"), self.cpus)
            gateway, executors = mesh.peak_rss_mib()
            self.add(
                Figure(
                    "peak RSS gateway + 1 executor",
                    "MiB",
                    [gateway + executors[0]],
                    ("<=", 250.0),
                    note=f"gateway {gateway:.0f} MiB (grpc+http+websocket), executor {executors[0]:.0f} MiB",
                )
            )

    def graphs(self) -> None:
        docs = 4000 if self.quick else 10000
        with Mesh(chain(3), self.cpus) as mesh:
            got = run_load(
                self.cpus, "post", protocol="grpc", port=mesh.port("grpc"), docs=docs, request_size=100, runs=self.runs
            )
            self.add(
                Figure(
                    "grpc 3-executor chain rs=100",
                    "docs/s",
                    got["docs_per_s"],
                    (">=", 12000.0),
                    self.floor.get("grpc echo c=16 x100"),
                    "echo c=16",
                )
            )
            _, executors = mesh.peak_rss_mib()
            self.add(Figure("peak RSS per further executor", "MiB", executors[1:], ("<=", 90.0)))
        with Mesh(fan_out(2), self.cpus) as mesh:
            got = run_load(
                self.cpus, "post", protocol="grpc", port=mesh.port("grpc"), docs=docs, request_size=100, runs=self.runs
            )
            self.add(
                Figure(
                    "grpc fan-out 2 + merge rs=100",
                    "docs/s",
                    got["docs_per_s"],
                    (">=", 8000.0),
                    self.floor.get("grpc echo c=16 x100"),
                    "echo c=16",
                )
            )

    def flow_start(self) -> None:
        # The Flow and its processes share the machine: the Flow process is not pinned.
        got = run_load(CpuPlan(None, None), "flow-start", executors=3, runs=self.runs)
        self.add(Figure("Flow start, 3 executors", "s", got["start_s"], ("<=", 1.5)))
        self.add(Figure("Flow close, 3 executors", "s", got["close_s"], ("<=", 1.0)))

    def stream_million(self) -> None:
        with Mesh([Node("e0", ["gateway"])], self.cpus) as mesh:
            got = run_load(self.cpus, "stream", timeout=400, port=mesh.port("grpc"), docs=1_000_000, request_size=100)
        self.add(
            Figure(
                "client RSS growth, 1M docs streamed",
                "MiB",
                [got["rss_growth_mib"]],
                ("<=", 50.0),
                note=f"{got['docs_per_s']:,.0f} docs/s, "
                f"RSS {got['rss_start_mib']:.0f} -> {got['rss_peak_mib']:.0f} MiB",
            )
        )

    def graphql(self) -> None:
        argv = [sys.executable, str(HERE / "graphql.py"), "--runs", str(self.runs)]
        if self.quick:
            argv += ["--requests", "500", "--events", "5000"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=400, check=False, cwd=HERE.parent)
        medians = {}
        for line in done.stdout.split("median of", 1)[-1].splitlines():
            found = re.match(r"\s+(\w+)\s+([\d.]+)", line)
            if found:
                medians[found.group(1)] = float(found.group(2))
        if not medians:
            raise RuntimeError(f"benchmarks/graphql.py printed no medians: {done.stderr[-1500:]}")
        rows = [
            ("graphql single-doc mutation p50", "ms", "flowql_p50_ms", ("<=", 2.0), "floor_p50_ms"),
            ("graphql single-doc mutation p99", "ms", "flowql_p99_ms", ("<=", 8.0), "floor_p99_ms"),
            ("graphql mutation x100", "docs/s", "flowql_docs_per_s_at_100", (">=", 6000.0), "floor_docs_per_s_at_100"),
            (
                "graphql subscription",
                "events/s",
                "flowql_subscription_events_per_s",
                (">=", 5000.0),
                "floor_subscription_events_per_s",
            ),
        ]
        for name, unit, key, target, floor_key in rows:
            self.add(
                Figure(
                    name,
                    unit,
                    [medians[key]],
                    target,
                    medians.get(floor_key),
                    "strawberry echo",
                    note="median of graphql.py's runs",
                )
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the main figures, smaller workloads (~1 minute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--only", nargs="*", help="groups to run: codec floors one graphs flow stream graphql curves")
    args = parser.parse_args(argv)
    cpus = CpuPlan.detect(pin=not args.no_pin)
    suite = Suite(args.quick, args.runs, cpus)
    began = time.perf_counter()
    load_before = os.getloadavg()
    print(
        f"flowql bench ({'quick' if args.quick else 'full'}): {os.cpu_count()} cores, {cpus.describe()}, "
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}",
        flush=True,
    )
    groups: list[tuple[str, str, Callable[[], None]]] = [
        ("codec", "codec (benchmarks/codec.py)", suite.codec),
        ("floors", "floors", suite.floors),
        ("one", "one executor", suite.one_executor),
        ("graphs", "chain / fan-out", suite.graphs),
        ("flow", "Flow start/close", suite.flow_start),
    ]
    if not args.quick:
        groups += [("stream", "1M-document stream", suite.stream_million), ("graphql", "GraphQL", suite.graphql)]
        groups += [("curves", "scaling curves", lambda: _curves(cpus))]
    for key, title, measure in groups:
        if args.only and key not in args.only:
            continue
        print(f"[{time.perf_counter() - began:5.0f} s] {title}", flush=True)
        suite.guarded(title, "", measure)
    load_after = os.getloadavg()
    elapsed = time.perf_counter() - began
    print()
    print(render(suite.figures))
    print(
        f"\n{os.cpu_count()} cores; {cpus.describe()}; load average before {load_before[0]:.2f} "
        f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
        f"{load_after[2]:.2f}; medians of {args.runs} runs; {elapsed:.0f} s"
    )
    for fig in suite.figures:
        if fig.note:
            print(f"  {fig.name}: {fig.note}")
    if not args.only:
        write_csv(suite.figures, RESULTS / ("summary-quick.csv" if args.quick else "summary.csv"))
    return 0 if all(fig.passed is not False for fig in suite.figures) else 1


def _curves(cpus: CpuPlan) -> None:
    from benchmarks import curves

    curves.chain_curve(cpus)
    curves.size_curve(cpus)
    curves.replicas_curve(cpus)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
