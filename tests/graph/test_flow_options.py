"""Flow and executor options that reach the processes: env, timeout_ready, every `uses` form, protocols, signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flowql import Document, RuntimeFailedToStart
from tests.graph.flow_helpers import children_of, local_flow, wait_pids_gone
from tests.graph.sample_executors import EnvReader, SlowInit, Upper

SAMPLES = Path(__file__).with_name("sample_executors.py")


def test_env_reaches_every_process_and_the_executors_own_wins():
    f = local_flow(env={"FLOWQL_T_FLOW": "flow", "FLOWQL_T_BOTH": "flow"}).add(
        uses=EnvReader, env={"FLOWQL_T_BOTH": "executor"}
    )
    with f:
        docs = f.post("/", [Document()], parameters={"names": ["FLOWQL_T_FLOW", "FLOWQL_T_BOTH"]})
    assert docs[0].tags == {"FLOWQL_T_FLOW": "flow", "FLOWQL_T_BOTH": "executor"}


def test_timeout_ready_bounds_a_slow_start():
    f = local_flow().add(name="sleepy", uses=SlowInit, uses_with={"seconds": 30}, timeout_ready=500)
    started = time.monotonic()
    with pytest.raises(RuntimeFailedToStart, match="sleepy failed to start: not ready after 0.5 s"):
        f.start()
    assert time.monotonic() - started < 10


def test_every_uses_form_runs(tmp_path):
    exec_yaml = tmp_path / "upper.yml"
    exec_yaml.write_text(f"jtype: Upper\nwith:\n  suffix: '-file'\npy_modules:\n  - {SAMPLES}\n")
    inline = f"jtype: Upper\nwith:\n  suffix: '-inline'\npy_modules:\n  - {SAMPLES}\n"
    f = (
        local_flow()
        .add(name="by_path", uses=str(exec_yaml))
        .add(name="inline", uses=inline)
        .add(name="as_dict", uses={"jtype": "Upper", "with": {"suffix": "-dict"}})
        .add(name="by_name", uses="Upper", uses_with={"suffix": "-name"})
        .add(name="by_ref", uses="tests.graph.sample_executors:Upper", uses_with={"suffix": "-ref"})
    )
    with f:
        docs = f.post("/", [Document(text="x")])
    # each executor upper-cases what came before and appends its own suffix
    assert docs.texts == ["X-FILE-INLINE-DICT-NAME-ref"]


def test_gateway_with_two_protocols_serves_grpc_to_post():
    f = local_flow(protocol=["http", "grpc"]).add()
    with f:
        assert [address.split(":")[0] for address in f.addresses] == ["http", "grpc"]
        assert f.ports[0] != f.ports[1]
        assert f.post("/", [Document(text="two")]).texts == ["two"]


def _run_script(tmp_path: Path, body: str) -> subprocess.Popen[str]:
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


@pytest.mark.parametrize(
    ("signum", "blocking", "exit_code"),
    [(signal.SIGINT, True, 0), (signal.SIGTERM, True, 0), (signal.SIGTERM, False, 128 + signal.SIGTERM)],
)
def test_signals_stop_a_serving_script_without_orphans(tmp_path, signum, blocking, exit_code):
    # READY is printed once the script waits: for block(), from inside its wait on the stop event, so
    # the signal cannot land between the print and block() (where Ctrl-C is a plain KeyboardInterrupt).
    wait = "f.block(AnnouncingEvent())" if blocking else "print('READY', flush=True); time.sleep(60)"
    body = f"""\
        import threading, time
        from flowql import Flow

        class AnnouncingEvent(threading.Event):
            def wait(self, timeout=None):
                if not getattr(self, 'announced', False):
                    self.announced = True
                    print('READY', flush=True)
                return super().wait(timeout)

        f = Flow(host='127.0.0.1').add().add(replicas=2)
        with f:
            {wait}
        print('LEFT', flush=True)
        """
    with _run_script(tmp_path, body) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "READY"
        children = children_of(process.pid)
        assert len(children) == 4
        process.send_signal(signum)
        assert process.wait(timeout=30) == exit_code
        rest = process.stdout.read()
    assert ("LEFT" in rest) == (exit_code == 0)
    assert wait_pids_gone(children) == []


@pytest.mark.parametrize(("protocol", "scheme"), [("http", "http"), ("websocket", "ws")])
def test_post_over_the_only_protocol_the_gateway_speaks(protocol, scheme):
    f = local_flow(protocol=protocol).add(uses=Upper)
    with f:
        assert f.address.startswith(f"{scheme}://127.0.0.1:")
        assert f.post("/", [Document(text="web")]).texts == ["WEB"]


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_a_tls_gateway_is_reached_by_post(tls_files, protocol):
    cert, key = tls_files
    f = local_flow(protocol=protocol, ssl_certfile=str(cert), ssl_keyfile=str(key)).add(uses=Upper)
    with f:
        assert f.address.startswith(("grpcs://", "https://"))
        assert f.post("/", [Document(text="secret")]).texts == ["SECRET"]
