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
STREAM_METHOD = "/floor.Echo/Stream"


def serve_grpc() -> None:
    import grpc
    import uvloop

    def echo(request: bytes, context: Any) -> bytes:
        return request

    async def echo_stream(requests: Any, context: Any) -> Any:
        async for request in requests:
            yield request

    async def main() -> None:
        server = grpc.aio.server(
            options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        )
        handler = grpc.method_handlers_generic_handler(
            "floor.Echo",
            {
                "Call": grpc.unary_unary_rpc_method_handler(echo),
                "Stream": grpc.stream_stream_rpc_method_handler(echo_stream),
            },
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


def stream_echo_client(address: str, docs: list[Any], messages: int, runs: int) -> dict[str, Any]:
    """One bidirectional stream, `messages` DataRequests written back to back while the answers
    are read: what pipelining over one call costs per message (docs/s per run)."""
    import grpc
    import uvloop

    from flowql.codec import encode_docs
    from flowql.proto.flowql_pb2 import DataRequest
    from flowql.request import new_request

    request = new_request("/", docs=encode_docs(docs))

    async def one_run(channel: Any, count: int) -> float:
        call = channel.stream_stream(
            STREAM_METHOD,
            request_serializer=DataRequest.SerializeToString,
            response_deserializer=DataRequest.FromString,
        )()

        async def write() -> None:
            for _ in range(count):
                await call.write(request)
            await call.done_writing()

        start = time.perf_counter()
        writer = asyncio.create_task(write())
        received = 0
        while (answer := await call.read()) is not grpc.aio.EOF:
            received += answer.docs == request.docs
        await writer
        if received != count:
            raise SystemExit(f"the stream echo lost messages: {received} of {count}")
        return count * len(docs) / (time.perf_counter() - start)

    async def run() -> dict[str, Any]:
        async with grpc.aio.insecure_channel(address) as channel:
            await one_run(channel, 200)
            return {"docs_per_s": [await one_run(channel, messages) for _ in range(runs)]}

    return uvloop.run(run())


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(
    url: str,
    *,
    body: bytes | None = None,
    expect_texts: int | None = None,
    connections: int = 8,
    seconds: float = 3.0,
    cpus: str | None,
) -> float:
    """Requests per second that `wrk` reaches against `url` (POSTing `body` when given). With
    `expect_texts`, every answer must hold that many `"text":` keys (one per document), else the
    run fails: wrk counts the answers that do not, and the count is checked here."""
    with tempfile.TemporaryDirectory(prefix="flowql-wrk-") as tmp:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        script = ""
        if body is not None:
            # wrk's Lua long brackets hold the body verbatim.
            script += 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            script += f"wrk.body = [==[{body.decode()}]==]\n"
        if expect_texts is not None:
            script += _COUNT_CHECK.replace("EXPECTED", str(expect_texts))
        if script:
            (Path(tmp) / "script.lua").write_text(script)
            argv += ["-s", str(Path(tmp) / "script.lua")]
        argv.append(url)
        if cpus:
            argv = ["taskset", "-c", cpus, *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if errors:
        raise RuntimeError(f"wrk got {errors.group(1)} error answers from {url}")
    short = re.search(r"short answers: (\d+) of (\d+)", done.stdout)
    if short and int(short.group(1)):
        raise RuntimeError(f"documents lost: {short.group(1)} of {short.group(2)} answers from {url} were short")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout}\n{done.stderr}")
    return float(found.group(1))


# Per thread: count answers without EXPECTED documents; at the end, print the total.
_COUNT_CHECK = """
threads = {}
function setup(thread) table.insert(threads, thread) end
short, answers = 0, 0
function response(status, headers, body)
  answers = answers + 1
  local _, n = string.gsub(body, '"text":', '')
  if n ~= EXPECTED then short = short + 1 end
end
function done(summary, latency, requests)
  local s, a = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("short"); a = a + t:get("answers") end
  io.write(string.format("short answers: %d of %d\\n", s, a))
end
"""


def echo_body(docs: int, chars: int = 100, **extra: Any) -> bytes:
    """A JSON body with `docs` documents of `chars` characters (the shape of flowql's POST /post)."""
    data = [{"text": (f"{i:06d}" + "x" * chars)[:chars]} for i in range(docs)]
    return json.dumps({"data": data, **extra}).encode()


if __name__ == "__main__":
    {"serve-grpc": serve_grpc, "serve-starlette": serve_starlette}[sys.argv[1]]()
