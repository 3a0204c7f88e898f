"""`flowql flow --uses flow.yml`: start a Flow from YAML, print its addresses, serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flowql._exceptions import FlowQLError

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
    return 0
