"""ChildProcess: ready lines, failure lines, prompt death detection, draining, and stopping by process group."""

from __future__ import annotations

import os
import queue
import sys
import time

import pytest

from flowql.graph.child_process import ChildEvent, ChildEventKind, ChildProcess

READY = "child x serving on "
FAILED = "child x failed: "


def _child(code: str, events: queue.Queue[ChildEvent]) -> ChildProcess:
    child = ChildProcess(
        "x",
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        ready_prefix=READY,
        failure_prefix=FAILED,
        events=events,
    )
    child.start()
    return child


def _next_event(events: queue.Queue[ChildEvent], kinds: set[ChildEventKind]) -> ChildEvent:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        if event.kind in kinds:
            return event
    raise AssertionError(f"no {kinds} event within 10 s")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_ready_line_is_seen_and_other_output_forwarded(capfd):
    events: queue.Queue[ChildEvent] = queue.Queue()
    code = f"print('hello before')\nprint({READY!r} + '127.0.0.1:1')\nprint('after')"
    child = _child(code, events)
    try:
        event = _next_event(events, {ChildEventKind.READY})
        assert event.child is child
        assert child.ready_line == READY + "127.0.0.1:1"
        _next_event(events, {ChildEventKind.EXITED})
    finally:
        child.terminate()
        child.wait_or_kill(time.monotonic() + 5)
    assert _gone(child.pid)
    out = capfd.readouterr().out
    assert "hello before" in out and "after" in out
    assert READY not in out


def test_failure_line_is_reported_with_its_reason():
    events: queue.Queue[ChildEvent] = queue.Queue()
    code = (
        "import sys\nprint('Traceback ...', file=sys.stderr)\n"
        f"print({FAILED!r} + 'ValueError: bad', file=sys.stderr)\nsys.exit(1)"
    )
    child = _child(code, events)
    event = _next_event(events, {ChildEventKind.FAILED, ChildEventKind.EXITED})
    assert event.child is child
    assert child.failure_reason() == "ValueError: bad"
    assert child.returncode() == 1
    child.kill()


def test_death_without_a_failure_line_reports_the_output_tail():
    events: queue.Queue[ChildEvent] = queue.Queue()
    child = _child("import os, sys\nprint('segfault-ish', file=sys.stderr)\nos._exit(3)", events)
    _next_event(events, {ChildEventKind.EXITED})
    reason = child.failure_reason()
    assert "exited with status 3" in reason
    assert "segfault-ish" in reason
    child.kill()


def test_chatty_child_never_blocks_on_a_full_pipe():
    events: queue.Queue[ChildEvent] = queue.Queue()
    # 4 MB on each stream before the ready line: far more than a pipe buffer holds.
    code = (
        "import sys\n"
        "for _ in range(4000): sys.stdout.write('x' * 1000 + '\\n'); sys.stderr.write('y' * 1000 + '\\n')\n"
        f"print({READY!r} + '127.0.0.1:1', flush=True)\n"
        "import time; time.sleep(60)"
    )
    child = _child(code, events)
    try:
        _next_event(events, {ChildEventKind.READY})
    finally:
        child.kill()
    assert _gone(child.pid)


def test_a_child_ignoring_sigterm_is_killed_after_the_deadline_with_its_own_children():
    events: queue.Queue[ChildEvent] = queue.Queue()
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        f"print({READY!r} + str(grandchild.pid), flush=True)\n"
        "time.sleep(60)"
    )
    child = _child(code, events)
    _next_event(events, {ChildEventKind.READY})
    assert child.ready_line is not None
    grandchild = int(child.ready_line.rsplit(" ", 1)[1])
    started = time.monotonic()
    child.terminate()
    child.wait_or_kill(time.monotonic() + 0.5)
    assert time.monotonic() - started < 5
    assert _gone(child.pid)
    deadline = time.monotonic() + 5
    while not _gone(grandchild) and time.monotonic() < deadline:
        # The grandchild is not ours to reap; init does it once the kill lands.
        time.sleep(0.05)
    assert _gone(grandchild)


def test_pid_before_start_is_an_error():
    child = ChildProcess("x", [sys.executable], env={}, ready_prefix="r", failure_prefix="f", events=queue.Queue())
    with pytest.raises(RuntimeError, match="not been started"):
        _ = child.pid
