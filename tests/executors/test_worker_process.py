"""A real `python -m flowql executor` process, spoken to over a real gRPC channel."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import grpc
import pytest
from grpc_health.v1 import health_pb2

from flowql import Document, Executor, requests
from flowql.codec import decode_docs
from flowql.proto.flowql_pb2 import Status
from flowql.request import RESULTS_KEY, error_of, get_parameters
from tests.executors.grpc_helpers import RPC_TIMEOUT_S, endpoints, health_status, process, request_for, stub
from tests.executors.worker_process import SAMPLES, WorkerProcess


def start(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> WorkerProcess:
    worker = WorkerProcess(list(argv), tmp_path / f"stderr-{time.monotonic_ns()}.txt", env)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """One worker serving sample_executors.Mixed, shared by the tests that only send requests."""
    worker = start(tmp_path_factory.mktemp("mixed"), "--uses", "Mixed", "--py-modules", SAMPLES, "--name", "mixed")
    yield worker
    assert worker.stop() == 0


def texts(data: bytes) -> list[str | None]:
    return [doc.text for doc in decode_docs(data, Document)]


# --- uses forms -----------------------------------------------------------------------------------


async def test_uses_registered_name_with_py_modules_and_uses_with(tmp_path: Path) -> None:
    worker = start(
        tmp_path, "--uses", "Upper", "--py-modules", SAMPLES, "--uses-with", '{"suffix": "!"}', "--name", "up"
    )
    try:
        response = await process(worker.address, request_for("/upper", [Document(text="hello")]))
        assert response.status.code == Status.SUCCESS
        assert texts(response.docs) == ["HELLO!"]
        [route] = response.routes
        assert (route.executor, route.address) == ("up", worker.address)
        assert route.start_time_ns <= route.end_time_ns
    finally:
        assert worker.stop() == 0


async def test_uses_module_colon_class(tmp_path: Path) -> None:
    worker = start(tmp_path, "--uses", "tests.executors.sample_executors:Upper", "--name", "up")
    try:
        response = await process(worker.address, request_for("/upper", [Document(text="abc")]))
        assert texts(response.docs) == ["ABC"]
    finally:
        assert worker.stop() == 0


SEED_YAML = """
jtype: MyExecutor
with:
  bar: 123
metas:
  name: awesomeness
  description: my first awesome executor
  py_modules: myexec.py
requests:
  /random_work: foo
"""


async def test_uses_yaml_file_with_relative_py_modules(tmp_path: Path) -> None:
    shutil.copy(SAMPLES, tmp_path / "myexec.py")
    (tmp_path / "myexec.yml").write_text(SEED_YAML)
    worker = start(tmp_path, "--uses", str(tmp_path / "myexec.yml"), "--name", "exec0")
    try:
        response = await process(worker.address, request_for("/random_work", [Document(text="x")]))
        [doc] = decode_docs(response.docs, Document)
        assert doc.tags == {
            "bar": 123,
            "metas_name": "awesomeness",
            "description": "my first awesome executor",
            "runtime_name": "exec0",
        }
        info = await endpoints(worker.address)
        assert [e.endpoint for e in info.endpoints] == ["/random_work"]
    finally:
        assert worker.stop() == 0


async def test_uses_inline_yaml_overridden_by_uses_with(tmp_path: Path) -> None:
    inline = SEED_YAML.replace("myexec.py", SAMPLES)
    worker = start(tmp_path, "--uses", inline, "--uses-with", '{"bar": 7}', "--uses-requests", '{"/other": "foo"}')
    try:
        for endpoint in ("/random_work", "/other"):
            response = await process(worker.address, request_for(endpoint, [Document()]))
            assert decode_docs(response.docs, Document)[0].tags["bar"] == 7
    finally:
        assert worker.stop() == 0


async def test_uses_pickle_of_a_class_defined_in_a_function(tmp_path: Path) -> None:
    class Exclaim(Executor):
        @requests(on="/exclaim")
        def exclaim(self, docs, **kwargs):
            for doc in docs:
                doc.text = doc.text + "!"

    path = tmp_path / "exclaim.pkl"
    path.write_bytes(cloudpickle.dumps(Exclaim))
    worker = start(tmp_path, "--uses", f"pickle:{path}")
    try:
        response = await process(worker.address, request_for("/exclaim", [Document(text="hey")]))
        assert texts(response.docs) == ["hey!"]
    finally:
        assert worker.stop() == 0


# --- handlers ------------------------------------------------------------------------------------


async def test_sync_handler_runs_on_the_handler_thread(mixed: WorkerProcess) -> None:
    for endpoint in ("/sync", "/sync-alias"):
        response = await process(mixed.address, request_for(endpoint, [Document(text="a")]))
        assert texts(response.docs) == ["sync:a:flowql-sync-handler"]


async def test_async_handler_returning_docs_replaces_them(mixed: WorkerProcess) -> None:
    response = await process(mixed.address, request_for("/async", [Document(text="a"), Document(text="b")]))
    assert texts(response.docs) == ["async:a", "async:b"]


async def test_dict_return_lands_in_results(mixed: WorkerProcess) -> None:
    docs = [Document(text="a"), Document(text="b")]
    response = await process(mixed.address, request_for("/results", docs, {"echo": 3}))
    parameters = get_parameters(response)
    assert parameters[RESULTS_KEY] == {"mixed": {"count": 2, "echo": 3}}
    assert parameters["echo"] == 3
    assert texts(response.docs) == ["a", "b"]


async def test_exception_is_reported_and_next_request_succeeds(mixed: WorkerProcess) -> None:
    failed = await process(mixed.address, request_for("/fail", [Document(text="a")], {"fail": True}))
    error = error_of(failed)
    assert error is not None
    assert (error.executor, error.exception_type, error.message) == ("mixed", "ValueError", "asked to fail with 1 docs")
    assert 'raise ValueError(f"asked to fail' in error.traceback
    assert texts(failed.docs) == ["a"]
    assert len(failed.routes) == 1

    ok = await process(mixed.address, request_for("/fail", [Document(text="a")]))
    assert ok.status.code == Status.SUCCESS
    assert texts(ok.docs) == ["survived"]


@pytest.mark.parametrize("endpoint", ["/stream", "/sync-stream"])
async def test_generator_items_arrive_as_they_are_yielded(mixed: WorkerProcess, tmp_path: Path, endpoint: str) -> None:
    gate = tmp_path / "gate"
    request = request_for(endpoint, [Document(text="d")], {"gate": str(gate)})
    async with grpc.aio.insecure_channel(mixed.address) as channel:
        call = stub(channel).ProcessStream(request, timeout=RPC_TIMEOUT_S)
        stream = call.__aiter__()
        first = await stream.__anext__()
        # The generator cannot yield its last item until the gate exists: the first arrived before it.
        assert not gate.exists()
        assert first.stream_index == 0
        assert first.header.request_id == request.header.request_id
        gate.touch()
        rest = [item async for item in stream]
    items = [first, *rest]
    suffix = "" if endpoint == "/stream" else "-sync"
    assert [texts(item.docs) for item in items] == [[f"d{suffix}-{i}"] for i in range(3)]
    assert [item.stream_index for item in items] == [0, 1, 2]
    assert all(item.routes[-1].executor == "mixed" for item in items)


@pytest.mark.parametrize("endpoint", ["/stream", "/sync-stream"])
async def test_generator_through_process_returns_all_items(mixed: WorkerProcess, endpoint: str) -> None:
    response = await process(mixed.address, request_for(endpoint, [Document(text="a"), Document(text="b")]))
    suffix = "" if endpoint == "/stream" else "-sync"
    assert texts(response.docs) == [f"{text}{suffix}-{i}" for text in "ab" for i in range(3)]


async def test_generator_error_through_process_keeps_the_input_docs(mixed: WorkerProcess) -> None:
    response = await process(mixed.address, request_for("/sync-stream", [Document(text="d")], {"fail": True}))
    error = error_of(response)
    assert error is not None and (error.exception_type, error.message) == ("RuntimeError", "stream broke")
    assert texts(response.docs) == ["d"]


async def test_generator_error_ends_stream_with_error_item(mixed: WorkerProcess) -> None:
    request = request_for("/sync-stream", [Document(text="d")], {"fail": True})
    async with grpc.aio.insecure_channel(mixed.address) as channel:
        items = [item async for item in stub(channel).ProcessStream(request, timeout=RPC_TIMEOUT_S)]
    assert [item.status.code for item in items] == [Status.SUCCESS, Status.ERROR]
    error = error_of(items[-1])
    assert error is not None and (error.exception_type, error.message) == ("RuntimeError", "stream broke")
    assert items[-1].stream_index == 1


async def test_branches_give_docs_matrix_and_docs_map(mixed: WorkerProcess) -> None:
    merged = [Document(text="m1"), Document(text="m2"), Document(text="m3")]
    branches = {"left": merged[:1], "right": merged[1:]}
    response = await process(mixed.address, request_for("/any-merge", merged, branches=branches))
    tags = [doc.tags for doc in decode_docs(response.docs, Document)]
    assert tags == [{"matrix_sizes": [1, 2], "map_keys": ["left", "right"]}] * 3
    assert len(response.branches) == 0

    plain = await process(mixed.address, request_for("/any-merge", [Document()]))
    assert decode_docs(plain.docs, Document)[0].tags == {"matrix_sizes": [], "map_keys": []}


async def test_health_is_serving(mixed: WorkerProcess) -> None:
    assert await health_status(mixed.address) == health_pb2.HealthCheckResponse.SERVING
    assert await health_status(mixed.address, "flowql.ExecutorService") == health_pb2.HealthCheckResponse.SERVING


async def test_unknown_endpoint_passes_bytes_through_undecoded(tmp_path: Path) -> None:
    worker = start(tmp_path, "--uses", "Upper", "--py-modules", SAMPLES, "--name", "up")
    try:
        # Not a DocListProto at all: had the worker decoded it, the request would have failed.
        opaque = b"\x00\x01not-a-doclist\xff"
        request = request_for("/unknown", parameters={"k": 1})
        request.docs = opaque
        response = await process(worker.address, request)
        assert response.status.code == Status.SUCCESS
        assert response.docs == opaque
        assert get_parameters(response) == {"k": 1}
        assert [route.executor for route in response.routes] == ["up"]
        info = await endpoints(worker.address)
        assert (info.executor, info.has_default, [e.endpoint for e in info.endpoints]) == ("up", False, ["/upper"])
    finally:
        assert worker.stop() == 0


async def test_typed_handlers_decode_custom_docs_and_report_schemas(tmp_path: Path) -> None:
    from tests.executors.sample_executors import MyIn, MyOut

    worker = start(tmp_path, "--uses", "Typed", "--py-modules", SAMPLES, "--name", "typed")
    try:
        response = await process(worker.address, request_for("/embed", [MyIn(text="four")]))
        assert response.status.code == Status.SUCCESS, response.status
        [out] = decode_docs(response.docs, MyOut)
        assert (out.text, out.length) == ("four", 4)
        assert out.embedding is not None and out.embedding.tolist() == [0.0, 4.0, 8.0, 12.0]

        info = await endpoints(worker.address)
        by_name = {e.endpoint: e for e in info.endpoints}
        embed = by_name["/embed"]
        assert (embed.input_schema_name, embed.output_schema_name, embed.streaming) == ("MyIn", "MyOut", False)
        assert embed.description == "Embeds text into 4 numbers."
        assert set(json.loads(embed.output_schema)["properties"]) == {"id", "text", "length", "embedding"}
        assert json.loads(embed.input_schema)["title"] == "MyIn"
        stream = by_name["/typed-stream"]
        assert (stream.input_schema_name, stream.output_schema_name, stream.streaming) == ("MyIn", "MyOut", True)

        async with grpc.aio.insecure_channel(worker.address) as channel:
            call = stub(channel).ProcessStream(
                request_for("/typed-stream", [MyIn(text="two words")]), timeout=RPC_TIMEOUT_S
            )
            words = [decode_docs(item.docs, MyOut)[0] async for item in call]
        assert [(w.text, w.length) for w in words] == [("two", 3), ("words", 5)]
    finally:
        assert worker.stop() == 0


# --- start-up failures and shutdown ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "last_line"),
    [
        (["--uses", "NoSuchExecutor"], "flowql executor bad failed: ExecutorLoadError: no Executor class named"),
        (["--uses", "BadInit", "--py-modules", SAMPLES], "flowql executor bad failed: ValueError: bad init on purpose"),
        (["--uses", "no_such_module:Thing"], "flowql executor bad failed: ModuleNotFoundError: No module named"),
    ],
)
def test_bad_uses_fails_fast_with_its_error(tmp_path: Path, argv: list[str], last_line: str) -> None:
    started = time.monotonic()
    worker = WorkerProcess([*argv, "--name", "bad"], tmp_path / "stderr.txt")
    with pytest.raises(RuntimeError, match="worker exited with 1"):
        worker.wait_ready()
    elapsed = time.monotonic() - started
    assert worker.stop() == 1
    lines = worker.stderr().strip().splitlines()
    assert lines[-1].startswith(last_line), lines[-1]
    assert "Traceback (most recent call last)" in worker.stderr()
    assert elapsed < 5.0, f"took {elapsed:.2f}s to fail"


def test_uses_with_unknown_argument_names_it(tmp_path: Path) -> None:
    worker = WorkerProcess(["--uses", "MyExecutor", "--py-modules", SAMPLES], tmp_path / "stderr.txt")
    with pytest.raises(RuntimeError):
        worker.wait_ready()
    assert worker.stop() == 1
    assert "TypeError" in worker.stderr().strip().splitlines()[-1]
    assert "bar" in worker.stderr().strip().splitlines()[-1]


async def test_sigterm_finishes_in_flight_request_then_closes(tmp_path: Path) -> None:
    marker, started, gate = tmp_path / "closed", tmp_path / "started", tmp_path / "gate"
    worker = start(
        tmp_path, "--uses", "Mixed", "--py-modules", SAMPLES, "--uses-with", json.dumps({"close_marker": str(marker)})
    )
    try:
        async with grpc.aio.insecure_channel(worker.address) as channel:
            request = request_for("/slow", [Document(text="s")], {"started": str(started), "gate": str(gate)})
            call = stub(channel).Process(request, timeout=RPC_TIMEOUT_S)
            deadline = time.monotonic() + 20
            while not started.exists():  # the handler is running: the request is in flight
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            worker.process.send_signal(signal.SIGTERM)
            assert not marker.exists()
            gate.touch()
            response = await call
        assert texts(response.docs) == ["slow done"]
        assert worker.process.wait(15) == 0
        assert marker.read_text() == "closed"
    finally:
        worker.stop()


async def test_sigint_calls_async_close_and_exits_zero(tmp_path: Path) -> None:
    marker = tmp_path / "closed"
    worker = start(tmp_path, "--uses", "Typed", "--py-modules", SAMPLES, env={"FLOWQL_TEST_CLOSE_MARKER": str(marker)})
    worker.process.send_signal(signal.SIGINT)
    assert worker.process.wait(15) == 0
    assert marker.read_text() == "async closed"
    assert worker.stop() == 0


async def test_handler_stuck_past_grace_does_not_keep_the_worker_alive(tmp_path: Path) -> None:
    started, never = tmp_path / "started", tmp_path / "never-opened"
    worker = start(tmp_path, "--uses", "Mixed", "--py-modules", SAMPLES, "--grace", "0.2")
    try:
        async with grpc.aio.insecure_channel(worker.address) as channel:
            request = request_for("/slow", [Document()], {"started": str(started), "gate": str(never)})
            call = stub(channel).Process(request, timeout=RPC_TIMEOUT_S)
            deadline = time.monotonic() + 20
            while not started.exists():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            stopping = time.monotonic()
            worker.process.send_signal(signal.SIGTERM)
            with pytest.raises(grpc.aio.AioRpcError):
                await call
        assert worker.process.wait(10) == 0
        assert time.monotonic() - stopping < 5.0
    finally:
        worker.stop()


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "executor", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for flag in ("--uses", "--uses-with", "--uses-metas", "--uses-requests", "--py-modules", "--port", "--grace"):
        assert flag in result.stdout
