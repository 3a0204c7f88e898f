"""`python -m flowql.graph.warm_start <role>`: import a role's CLI first, then read its arguments from stdin.

The Flow starts the gateway this way at the same moment as the executors: the gateway's imports
(the slowest part of its start) overlap with the executors' start-up, and its arguments, which
name the topology file that can only be written once every executor reported its port, arrive on
stdin as one JSON list when they are known. The process then runs exactly `flowql <role> <args>`.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    from flowql.__main__ import ROLES

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in ROLES:
        print(f"usage: python -m flowql.graph.warm_start {{{','.join(ROLES)}}}", file=sys.stderr)
        return 2
    module = importlib.import_module(ROLES[args[0]][0])
    line = sys.stdin.readline()
    if not line.strip():
        # The Flow went away (or gave up) before it needed this process.
        return 0
    role_args = json.loads(line)
    if not isinstance(role_args, list) or not all(isinstance(arg, str) for arg in role_args):
        print("warm_start: expected one JSON list of strings on stdin", file=sys.stderr)
        return 2
    exit_code: int = module.main(role_args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
