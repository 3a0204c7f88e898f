"""The `flowql` command line: a thin shell over each role's own entry point.

flowql executor --uses Upper --py-modules my_execs.py --port 0
flowql gateway --topology topology.json --protocol http grpc --port 8080 8081
flowql flow --uses flow.yml
flowql export kubernetes flow.yml OUTPUT_DIR
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# Each role parses its own arguments; importing only the role asked for keeps start-up fast.
ROLES = {
    "executor": ("flowql.executors.cli", "serve the Executor named by --uses over gRPC"),
    "gateway": ("flowql.app.cli", "serve a topology document over GraphQL/HTTP/WebSocket/gRPC"),
    "flow": ("flowql.graph.cli", "start a Flow from YAML and block until Ctrl-C"),
    "export": ("flowql.graph.export_cli", "write deployment manifests for a Flow"),
}


def usage() -> str:
    lines = ["usage: flowql <role> [options]", "", "roles:"]
    lines.extend(f"  {name:<10}{help_text}" for name, (_, help_text) in ROLES.items())
    lines.append("")
    lines.append("`flowql <role> --help` describes a role's options.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from flowql import __version__

        print(__version__)
        return 0
    role = ROLES.get(args[0])
    if role is None:
        print(f"flowql: unknown role {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(role[0])
    exit_code: int = module.main(args[1:])
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
