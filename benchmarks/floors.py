"""The floors every flowql figure is compared with, measured in the same run.

- gRPC: a bare grpc.aio server whose one unary method echoes the request bytes (no parsing), and a
  client that sends it a `DataRequest` carrying the same encoded documents as the flowql figure
  (serialised and parsed on the client as flowql's client does), at concurrency 1 and 16 on one
  channel. One echo is one network hop; a flowql request makes two (client -> gateway -> executor).
- HTTP: a plain Starlette app on uvicorn (uvloop, httptools; the gateway's configuration): `GET
  /json` answers a constant JSON object, `POST /echo` parses a JSON body and answers it. Load from
  `wrk` (a C load generator; a Python client saturates its own core first).

Servers: `floors.py serve-grpc` / `floors.py serve-starlette` print `... serving on ADDRESS`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # graphql.py beside this file would shadow the graphql package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ECHO_METHOD = "/floor.Echo/Call"


def serve_grpc() -> None:
    import grpc
    import uvloop

    def echo(request: bytes, context: Any) -> bytes:
        return request

    async def main() -> None:
        server = grpc.aio.server(
            options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        )
        handler = grpc.method_handlers_generic_handler(
            "floor.Echo", {"Call": grpc.unary_unary_rpc_method_handler(echo)}
        )
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        gc.collect()
        gc.freeze()
        print(f"floor grpc serving on 127.0.0.1:{port}", flush=True)
        await server.wait_for_termination()

    uvloop.run(main())


def serve_starlette() -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def constant(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(await request.json())

    app = Starlette(routes=[Route("/json", constant), Route("/echo", echo, methods=["POST"])])

    async def main() -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn has no started event to await
            await asyncio.sleep(0.01)
        gc.collect()
        gc.freeze()
        print(
            f"floor starlette serving on http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", flush=True
        )
        await task

    import uvloop

    uvloop.run(main())


def echo_client(address: str, docs: list[Any], concurrency: int, calls: int, runs: int) -> dict[str, Any]:
    """Unary echo calls of one DataRequest with `docs`: calls/s, docs/s and p50 (ms) per run."""
    import grpc
    import uvloop

    from flowql.codec import encode_docs
    from flowql.proto.flowql_pb2 import DataRequest
    from flowql.request import new_request

    request = new_request("/", docs=encode_docs(docs))
    expected = request.docs

    async def run() -> dict[str, Any]:
        options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        async with grpc.aio.insecure_channel(address, options=options) as channel:
            call = channel.unary_unary(
                ECHO_METHOD,
                request_serializer=DataRequest.SerializeToString,
                response_deserializer=DataRequest.FromString,
            )
            latencies: list[float] = []

            async def worker(count: int) -> None:
                for _ in range(count):
                    sent = time.perf_counter()
                    answer = await call(request)
                    latencies.append(time.perf_counter() - sent)
                    if answer.docs != expected:
                        raise SystemExit("the echo lost documents")

            await asyncio.gather(*(worker(50) for _ in range(concurrency)))
            rates, p50 = [], []
            for _ in range(runs):
                latencies.clear()
                start = time.perf_counter()
                await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
                elapsed = time.perf_counter() - start
                rates.append(len(latencies) / elapsed)
                p50.append(sorted(latencies)[len(latencies) // 2] * 1e3)
        return {"calls_per_s": rates, "docs_per_s": [r * len(docs) for r in rates], "p50_ms": p50}

    return uvloop.run(run())


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(url: str, *, body: bytes | None = None, connections: int = 8, seconds: float = 3.0, cpus: str | None) -> float:
    """Requests per second that `wrk` reaches against `url` (POSTing `body` when given)."""
    with tempfile.TemporaryDirectory(prefix="flowql-wrk-") as tmp:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        if body is not None:
            script = Path(tmp) / "post.lua"
            # wrk's Lua long brackets hold the body verbatim.
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = [==[{body.decode()}]==]\n"
            )
            argv += ["-s", str(script)]
        argv.append(url)
        if cpus:
            argv = ["taskset", "-c", cpus, *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if errors:
        raise RuntimeError(f"wrk got {errors.group(1)} error answers from {url}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout}\n{done.stderr}")
    return float(found.group(1))


def echo_body(docs: int, chars: int = 100) -> bytes:
    return json.dumps({"data": [{"text": (f"{i:06d}" + "x" * chars)[:chars]} for i in range(docs)]}).encode()


if __name__ == "__main__":
    {"serve-grpc": serve_grpc, "serve-starlette": serve_starlette}[sys.argv[1]]()
