"""child_entry: a Flow's child process: arguments from argv or stdin, and a stop when the Flow goes away."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.graph.flow_helpers import children_of, wait_pids_gone

UPPER = "--uses=tests.graph.sample_executors:Upper"


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowql.graph.child_entry", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_unknown_role_is_a_usage_error():
    with _start("nope") as process:
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "usage" in err
    # The package must not import child_entry before runpy runs it (a double import, and its warning).
    assert "RuntimeWarning" not in err


def test_closed_stdin_before_the_arguments_means_not_needed():
    with _start("executor", "-") as process:
        process.communicate("", timeout=30)
    assert process.returncode == 0


def test_arguments_arrive_on_stdin_and_the_role_runs():
    with _start("executor", "-") as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(["--name=warm", UPPER]) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        assert line.startswith("flowql executor warm serving on 127.0.0.1:"), line
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_the_child_stops_gracefully_when_its_stdin_closes():
    with _start("executor", "--name=watched", UPPER) as process:
        assert process.stdin is not None and process.stdout is not None
        assert process.stdout.readline().startswith("flowql executor watched serving on ")
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        err = process.stderr.read()
    assert "stopped" in err


def test_a_killed_flow_process_leaves_no_orphans(tmp_path: Path):
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            """\
            from flowql import Flow
            with Flow(host='127.0.0.1').add().add(replicas=2) as f:
                print('READY', flush=True)
                f.block()
            """
        )
    )
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "READY"
        children = children_of(process.pid)
        assert len(children) == 4
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert wait_pids_gone(children, timeout=20) == []
