"""Starting and stopping Flows: readiness, start-up failures, teardown without orphans, floating warnings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from flowql import (
    ConfigurationError,
    Document,
    DocumentArray,
    ExecutorError,
    FlowQLError,
    RuntimeFailedToStart,
    TransportError,
)
from flowql.graph import FloatingExecutorWarning
from tests.graph.flow_helpers import all_pids, children_of, local_flow, pid_gone, wait_pids_gone
from tests.graph.sample_executors import BrokenInit, Recorder, Tagger, Upper


def test_three_executor_flow_starts_fast_and_stops_clean(capsys):
    f = local_flow().add(uses=Upper).add(uses=Tagger).add(uses=Upper)
    started = time.monotonic()
    with f:
        ready = time.monotonic() - started
        pids = all_pids(f)
        assert len(pids) == 4
        assert f.post("/", [Document(text="a")]).texts == ["A"]
        stop_started = time.monotonic()
    stopped = time.monotonic() - stop_started
    with capsys.disabled():
        print(f"\n3-executor Flow: ready in {ready:.2f} s (Flow says {f.startup_seconds}), stopped in {stopped:.2f} s")
    assert ready < 10
    assert wait_pids_gone(pids, timeout=0) == []


def test_addresses_are_printed_when_ready(capsys):
    with local_flow().add() as f:
        err = capsys.readouterr().err
        assert f"grpc://127.0.0.1:{f.port}" in err
        assert "Flow ready in" in err


def test_no_orphans_after_an_exception_inside_with():
    f = local_flow().add(uses=Upper, replicas=2).add(uses=Tagger, shards=2)
    with pytest.raises(KeyError, match="boom"):
        with f:
            pids = all_pids(f)
            assert len(pids) == 5
            raise KeyError("boom")
    assert wait_pids_gone(pids, timeout=0) == []


def test_failing_uses_raises_promptly_with_name_and_error():
    f = local_flow().add(name="fine", uses=Upper).add(name="broken", uses=BrokenInit)
    started = time.monotonic()
    with pytest.raises(RuntimeFailedToStart) as caught:
        with f:
            pass
    assert time.monotonic() - started < 10
    assert caught.value.name == "broken"
    assert "missing model file" in caught.value.reason
    assert "RuntimeError" in caught.value.reason
    assert f.pids == {}


def test_unimportable_uses_names_the_executor():
    f = local_flow().add(name="ghost", uses="tests.graph.no_such_module:Nothing")
    with pytest.raises(RuntimeFailedToStart, match="ghost failed to start"):
        f.start()


def test_port_in_use_fails_with_the_executor_name(free_port):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        f = local_flow().add(name="clash", uses=Upper, port=port)
        with pytest.raises(RuntimeFailedToStart, match="clash"):
            f.start()


def test_add_on_a_running_flow_is_refused():
    f = local_flow().add()
    with f:
        with pytest.raises(ConfigurationError, match="running Flow"):
            f.add()
    f.add()
    assert len(f.executors) == 2


def test_implicitly_floating_executors_are_named_in_a_warning():
    f = local_flow().add(name="lost", uses=Upper, needs="gateway").add(name="kept", uses=Upper, needs="gateway")
    with pytest.warns(FloatingExecutorWarning, match="lost"):
        with f:
            assert f.post("/", [Document(text="x")]).texts == ["X"]


def test_floating_executor_gets_requests_but_the_caller_does_not_wait(tmp_path):
    record = tmp_path / "floating.txt"
    f = (
        local_flow()
        .add(name="main", uses=Upper)
        .add(name="audit", uses=Recorder, uses_with={"path": str(record)}, needs="gateway", floating=True)
    )
    doc = Document(text="x")
    with f:
        responses = f.post("/", [doc], parameters={"seconds": 2}, return_responses=True)
        answered = time.monotonic()
        assert [route.executor for route in responses[0].routes if route.executor != "gateway"] == ["main"]
        deadline = answered + 10
        while (not record.exists() or doc.id not in record.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert doc.id in record.read_text()


def test_killed_executor_fails_in_flight_requests_with_its_name(tmp_path):
    record = tmp_path / "requests.txt"
    f = local_flow(retries=0).add(name="worker", uses=Recorder, uses_with={"path": str(record)})
    with f:
        outcome: dict[str, object] = {}

        def slow_request() -> None:
            try:
                outcome["result"] = f.post("/", [Document(text="slow")], parameters={"seconds": 30})
            except Exception as exc:  # the error the caller sees is what the test checks
                outcome["error"] = exc

        thread = threading.Thread(target=slow_request)
        thread.start()
        deadline = time.monotonic() + 10
        while (not record.exists() or not record.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        busy_pid = int(record.read_text().split()[0])
        assert f.pids["worker"] == [busy_pid]
        os.kill(busy_pid, signal.SIGKILL)
        thread.join(timeout=20)
        assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, ExecutorError | TransportError), outcome
    assert "worker" in str(error)


def test_with_a_replica_killed_the_other_one_serves(tmp_path):
    record = tmp_path / "requests.txt"
    f = local_flow().add(name="worker", uses=Recorder, uses_with={"path": str(record)}, replicas=2)
    with f:
        victim, survivor = f.pids["worker"]
        os.kill(victim, signal.SIGKILL)
        assert wait_pids_gone([victim]) == []
        for i in range(4):
            assert f.post("/", [Document(text=f"after {i}")]).texts == [f"after {i}"]
    served_by = {int(line.split()[0]) for line in record.read_text().splitlines()}
    assert served_by == {survivor}


def test_block_returns_when_the_event_is_set():
    stop = threading.Event()
    with local_flow().add() as f:
        timer = threading.Timer(0.3, stop.set)
        timer.start()
        started = time.monotonic()
        f.block(stop_event=stop)
        assert time.monotonic() - started < 5


def test_flow_can_start_again_after_it_stopped():
    f = local_flow().add(uses=Upper)
    for _ in range(2):
        with f:
            assert f.post("/", [Document(text="a")]).texts == ["A"]


def test_seed_minimal_example_runs_as_a_script(tmp_path):
    script = tmp_path / "minimal.py"
    script.write_text(
        textwrap.dedent(
            """\
            from flowql import Flow, Document, Executor, requests
            class MyExecutor(Executor):
                @requests(on='/bar')
                def foo(self, docs, **kwargs):
                    print(docs)
            f = Flow().add(name='myexec1', uses=MyExecutor)
            with f:
                f.post(on='/bar', inputs=Document(), on_done=print)
            """
        )
    )
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr[-3000:]
    # The executor's own print (forwarded from its process) and the on_done print of the response.
    assert "DocumentArray" in result.stdout or "DocList" in result.stdout
    assert "Response" in result.stdout or "request_id" in result.stdout
    assert "Flow ready in" in result.stderr


def test_async_flow_posts_with_async_for():
    from flowql import AsyncFlow

    async def inputs():
        for i in range(3):
            yield Document(text=f"a{i}")

    f = AsyncFlow(host="127.0.0.1").add(uses=Upper)
    texts = []

    async def run() -> None:
        async with f:
            async for response in f.post("/", inputs, request_size=1):
                texts.extend(response.docs.texts)

    import asyncio

    asyncio.run(run())
    assert sorted(texts) == ["A0", "A1", "A2"]


def test_flow_cli_serves_a_yaml_until_sigterm(tmp_path):
    from flowql import Client

    flow_yaml = tmp_path / "flow.yml"
    local_flow().add(name="up", uses=Upper).save_config(flow_yaml)
    with subprocess.Popen(
        [sys.executable, "-m", "flowql", "flow", "--uses", str(flow_yaml)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("flowql flow serving on grpc://127.0.0.1:"), line
        port = int(line.strip().rsplit(":", 1)[1])
        children = children_of(process.pid)
        assert len(children) == 2
        with Client(host="127.0.0.1", port=port) as client:
            docs = client.post("/", [Document(text="cli")])
        assert isinstance(docs, DocumentArray)
        assert docs.texts == ["CLI"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert wait_pids_gone(children) == []
    assert all(pid_gone(pid) for pid in children)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_flow_cli_stopped_before_it_blocks_exits_0_and_stops_everything(tmp_path, monkeypatch, signum):
    from flowql.graph import cli
    from flowql.graph.flow import Flow

    flow_yaml = tmp_path / "flow.yml"
    local_flow().add(name="up", uses=Upper).save_config(flow_yaml)
    seen: list[int] = []

    def signalled_before_blocking(self: Flow, stop_event: threading.Event | None = None) -> None:
        # The signal lands after the addresses are printed but before block() waits.
        seen.extend(pid for pids in self.pids.values() for pid in pids)
        signal.raise_signal(signum)

    monkeypatch.setattr(Flow, "block", signalled_before_blocking)
    assert cli.main(["--uses", str(flow_yaml)]) == 0
    assert len(seen) == 2 and wait_pids_gone(seen) == []


def test_external_executor_is_used_but_not_managed():
    with subprocess.Popen(
        [sys.executable, "-m", "flowql", "executor", "--uses", "tests.graph.sample_executors:Upper", "--name", "ext"],
        stdout=subprocess.PIPE,
        text=True,
    ) as external:
        assert external.stdout is not None
        line = external.stdout.readline()
        assert line.startswith("flowql executor ext serving on 127.0.0.1:"), line
        port = int(line.strip().rsplit(":", 1)[1])
        f = local_flow().add(name="ext", external=True, host="127.0.0.1", port=port).add(uses=Tagger)
        with f:
            assert "ext" not in f.pids
            docs = f.post("/", [Document(text="e")])
        assert docs.texts == ["E"]
        assert docs[0].tags["seen"] == ["executor1"]
        assert external.poll() is None
        external.terminate()
        assert external.wait(timeout=10) == 0


def test_script_classes_and_their_sibling_modules_reach_the_workers(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "shouting.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    (project / "app.py").write_text(
        textwrap.dedent(
            """\
            from flowql import Flow, Document, Executor, requests
            from shouting import shout

            class Shout(Executor):
                @requests
                def go(self, docs, **kwargs):
                    for doc in docs:
                        doc.text = shout(doc.text)

            with Flow(host='127.0.0.1').add(uses=Shout) as f:
                print(f.post('/', Document(text='hey')).texts)
            """
        )
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, str(project / "app.py")], cwd=elsewhere, capture_output=True, text=True, timeout=50
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "['HEY!']" in result.stdout


def test_block_logs_a_dead_executor_and_ends_when_the_gateway_dies(caplog):
    f = local_flow().add(name="pair", uses=Upper, replicas=2)
    with f:
        os.kill(f.pids["pair"][0], signal.SIGKILL)
        stop = threading.Event()
        threading.Timer(1.5, stop.set).start()
        f.block(stop_event=stop)
        assert "exited with status" in caplog.text and "'pair'" in caplog.text
        assert f.post("/", [Document(text="still")]).texts == ["STILL"]
        os.kill(f.pids["gateway"][0], signal.SIGKILL)
        with pytest.raises(FlowQLError, match="gateway exited"):
            f.block()


def test_seed_async_flow_usage_with_a_plain_with_block():
    from flowql import Flow

    async def async_inputs():
        for i in range(4):
            yield Document(text=f"q{i}")

    async def run() -> list[str]:
        texts: list[str] = []
        with Flow(asyncio=True, host="127.0.0.1").add(uses=Upper) as f:
            async for resp in f.post("/", async_inputs, request_size=2):
                texts.extend(resp.docs.texts)
        return texts

    import asyncio

    assert sorted(asyncio.run(run())) == ["Q0", "Q1", "Q2", "Q3"]


def test_seed_yaml_naming_a_class_from_the_script(tmp_path):
    script = tmp_path / "from_yaml.py"
    script.write_text(
        textwrap.dedent(
            """\
            from flowql import Flow, Document, Executor, requests
            class MyExecutor(Executor):
                @requests(on='/bar')
                def foo(self, docs, **kwargs):
                    for doc in docs:
                        doc.text = 'seen by MyExecutor'
            f = Flow.load_config('jtype: Flow\\nexecutors:\\n- name: myexec1\\n  uses: MyExecutor\\n')
            with f:
                print(f.post(on='/bar', inputs=Document()).texts)
            """
        )
    )
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "['seen by MyExecutor']" in result.stdout


def test_gateway_port_in_use_fails_with_the_gateway_name():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        f = local_flow(port=taken.getsockname()[1]).add(name="fine", uses=Upper)
        started = time.monotonic()
        with pytest.raises(RuntimeFailedToStart) as caught:
            f.start()
    assert caught.value.name == "gateway"
    assert time.monotonic() - started < 10
    assert f.pids == {}
