"""`flowql flow --uses flow.yml`: start a Flow from YAML, print its addresses, serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from flowql._exceptions import FlowQLError

# What ExitSignals raises on SIGTERM / SIGHUP (graph/exit_signals.py).
STOP_EXIT_CODES = (128 + signal.SIGTERM, 128 + signal.SIGHUP)

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowql flow", description="Serve a Flow described in YAML.")
    parser.add_argument("--uses", required=True, help="path of the Flow YAML (jtype: Flow)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from flowql.graph.flow import Flow

    try:
        flow = Flow.load_config(args.uses)
        with flow:
            for url in flow.addresses:
                print(f"flowql flow serving on {url}", flush=True)
            flow.block()
    except FlowQLError as exc:
        print(f"flowql flow: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C before block() began to wait (block() itself returns on it): leaving `with` has
        # already stopped every process, which is all a stop asks for.
        return 0
    except SystemExit as exc:
        # SIGTERM/SIGHUP while the Flow ran but outside block(): ExitSignals raised this so that
        # `with` stops the processes; for a server, that is a clean stop too.
        if exc.code in STOP_EXIT_CODES:
            return 0
        raise
    return 0
