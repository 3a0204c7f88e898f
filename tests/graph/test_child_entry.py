"""warm_start: a role's process that imports first and takes its arguments from stdin."""

from __future__ import annotations

import json
import subprocess
import sys


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowql.graph.warm_start", *args],
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


def test_closed_stdin_means_not_needed():
    with _start("executor") as process:
        process.communicate("", timeout=30)
    assert process.returncode == 0


def test_arguments_arrive_on_stdin_and_the_role_runs():
    with _start("executor") as process:
        assert process.stdin is not None and process.stdout is not None
        argv = ["--name=warm", "--uses=tests.graph.sample_executors:Upper"]
        process.stdin.write(json.dumps(argv) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        assert line.startswith("flowql executor warm serving on 127.0.0.1:"), line
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0
