"""`python -m flowql.graph.child_entry <role> <args...>`: how a Flow runs its executor and gateway processes.

It runs exactly `flowql <role> <args...>`, with two additions for processes a Flow owns:

- `<role> -` reads the arguments as one JSON list from stdin, after importing the role's CLI. The
  Flow starts the gateway this way at the same moment as the executors, so the gateway's imports
  (the slowest part of its start) overlap with theirs; its arguments name the topology file, which
  can only be written once every executor reported its port.
- The process stops itself (SIGTERM, the graceful path) when its stdin reaches end-of-file: the
  Flow holds the other end of that pipe, so a Flow process that dies without cleaning up (SIGKILL,
  a crash) leaves no orphans behind.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Sequence

__all__ = ["main"]

ARGS_ON_STDIN = "-"


def main(argv: Sequence[str] | None = None) -> int:
    from flowql.__main__ import ROLES

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ROLES:
        print(f"usage: python -m flowql.graph.child_entry {{{','.join(ROLES)}}} [ARGS... | -]", file=sys.stderr)
        return 2
    module = importlib.import_module(ROLES[args[0]][0])
    role_args = args[1:]
    if role_args == [ARGS_ON_STDIN]:
        line = sys.stdin.readline()
        if not line.strip():
            # The Flow went away (or gave up) before it needed this process.
            return 0
        role_args = json.loads(line)
        if not isinstance(role_args, list) or not all(isinstance(arg, str) for arg in role_args):
            print("child_entry: expected one JSON list of strings on stdin", file=sys.stderr)
            return 2
    _stop_when_stdin_closes()
    exit_code: int = module.main(role_args)
    return exit_code


def _stop_when_stdin_closes() -> None:
    try:
        is_pipe = stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        return
    if not is_pipe:
        # Not started by a Flow (a terminal, /dev/null): nothing to watch.
        return

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            return
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="flowql-parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
