"""Where the time goes: py-spy samples the gateway, an executor and the client under load.

    .venv/bin/python benchmarks/profile.py grpc [--request-size 100] [--chain 1] [--docs 20000]
    .venv/bin/python benchmarks/profile.py http|websocket|latency ...

Starts a mesh (separate, pinned processes, as the suite does), attaches `py-spy record` to the
gateway and the first executor, runs the load (`load.py post`, or `load.py latency`) under a third
py-spy, and writes for each process a summary to benchmarks/results/profiles/<load>-<process>.txt:
the share of samples per package (grpc, protobuf, asyncio, uvicorn, starlette, strawberry,
docarray, flowql, ...) by the innermost frame that belongs to a package, and the top functions by
self and inclusive samples. Idle samples (the event loop waiting in epoll / select) are counted
apart, so the shares are of busy time.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # graphql.py beside this file would shadow the graphql package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import HERE, CpuPlan, Mesh, Node, _env, _pinned, chain, fan_out  # noqa: E402

OUT = HERE / "results" / "profiles"
IDLE = ("select (selectors.py", "_run_once (asyncio", "poll (", "epoll", "wait (threading.py", "run_forever", "_poll")
PACKAGES = [  # py-spy names frames "function (path:line)", paths relative to site-packages or the repo
    ("grpc", ("(grpc/", "cygrpc")),
    ("protobuf", ("(google/protobuf/",)),
    ("uvicorn", ("(uvicorn/",)),
    ("httptools", ("(httptools/",)),
    ("websockets", ("(websockets/",)),
    ("starlette", ("(starlette/",)),
    ("strawberry/graphql-core", ("(strawberry/", "(graphql/")),
    ("httpx/httpcore/anyio", ("(httpx/", "(httpcore/", "(h11/", "(anyio/")),
    ("pydantic/docarray", ("(pydantic", "(docarray/")),
    ("prometheus_client", ("(prometheus_client/",)),
    ("json", ("(json/",)),
    ("flowql", ("(flowql/", "(app/", "(executors/", "(client/", "(graph/")),
    ("asyncio/uvloop", ("(asyncio/", "uvloop")),
    ("python stdlib", ("(inspect.py", "(typing.py", "(<frozen", "(threading.py", "(queue.py", "(copy.py")),
]


def package_of(frame: str) -> str | None:
    for name, markers in PACKAGES:
        if any(marker in frame for marker in markers):
            return name
    return None


def summarise(raw: Path, title: str, top: int = 25) -> str:
    """A text summary of py-spy's collapsed stacks (`frame;frame;... count` per line)."""
    packages: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE):
            idle += count
            continue
        busy += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for frame in reversed(frames):
            package = package_of(frame)
            if package is not None:
                packages[package] += count
                break
        else:
            packages["other"] += count
    total = max(busy, 1)
    lines = [f"# {title}", f"busy samples {busy}, idle {idle} (busy {100 * busy / max(busy + idle, 1):.0f}%)", ""]
    lines.append("share of busy samples by package of the innermost packaged frame:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common()]
    lines.append("\ntop functions by own samples:")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("\ntop functions by inclusive samples:")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("load", choices=["grpc", "http", "websocket", "latency"])
    parser.add_argument("--request-size", type=int, default=100)
    parser.add_argument("--chain", type=int, default=1)
    parser.add_argument("--fan-out", type=int, default=0, help="branches of a fan-out + merge (instead of a chain)")
    parser.add_argument("--docs", type=int, default=30000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--tag", default="", help="suffix of the output files (e.g. before / after)")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    cpus = CpuPlan.detect()
    OUT.mkdir(parents=True, exist_ok=True)
    protocol = "grpc" if args.load in ("grpc", "latency") else args.load
    nodes = chain(args.chain) if args.chain > 1 else [Node("e0", ["gateway"])]
    shape = f"chain{args.chain}"
    if args.fan_out:
        nodes, shape = fan_out(args.fan_out), f"fanout{args.fan_out}"
    name = f"{args.load}-rs{args.request_size}-{shape}{'-' + args.tag if args.tag else ''}"
    with Mesh(nodes, cpus, protocols=(protocol,)) as mesh:
        if args.load == "latency":
            load_args = {"protocol": "grpc", "port": mesh.port("grpc"), "requests": 100000, "runs": 1}
            mode = "latency"
        else:
            load_args = {
                "protocol": protocol,
                "port": mesh.port(protocol),
                "docs": args.docs,
                "request_size": args.request_size,
                "runs": 50,
            }
            mode = "post"
        client = subprocess.Popen(
            _pinned([sys.executable, str(HERE / "load.py"), mode, json.dumps(load_args)], cpus.load),
            stdout=subprocess.DEVNULL,
            env=_env(),
            cwd=HERE.parent,
        )
        time.sleep(2.5)  # past start-up and warm-up: sample the steady state
        assert mesh.gateway is not None
        targets = {"gateway": mesh.gateway.pid, "executor": mesh.executors[0].pid, "client": client.pid}
        spies = {
            who: subprocess.Popen(
                [spy, *record_args(pid, OUT / f"{name}-{who}.raw", args.seconds)], stderr=subprocess.DEVNULL
            )
            for who, pid in targets.items()
        }
        for spy_process in spies.values():
            spy_process.wait(args.seconds + 30)
        client.kill()
        client.wait()
    for who in targets:
        raw = OUT / f"{name}-{who}.raw"
        if raw.exists():
            text = summarise(raw, f"{name}: {who}")
            (OUT / f"{name}-{who}.txt").write_text(text)
            raw.unlink()
            print(text)
    return 0


def record_args(pid: int, raw: Path, seconds: float) -> list[str]:
    return [
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--output",
        str(raw),
        "--rate",
        "250",
        "--duration",
        str(int(seconds)),
        "--nonblocking",
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
