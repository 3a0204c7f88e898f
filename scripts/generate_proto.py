"""Regenerate flowql/proto/*_pb2*.py(i) from flowql/proto/flowql.proto.

Run: .venv/bin/python scripts/generate_proto.py [--check]
With --check it regenerates into a temporary folder and exits 1 when the committed files differ.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent.parent / "flowql" / "proto"
GENERATED = ("flowql_pb2.py", "flowql_pb2.pyi", "flowql_pb2_grpc.py")


def generate(out_dir: Path) -> None:
    from grpc_tools import protoc

    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(PROTO_DIR / "flowql.proto"),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # protoc writes a top-level import; the generated module lives inside the flowql.proto package.
    grpc_module = out_dir / "flowql_pb2_grpc.py"
    text = grpc_module.read_text()
    text = re.sub(r"^import flowql_pb2 as", "from . import flowql_pb2 as", text, flags=re.M)
    grpc_module.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when committed files are stale")
    options = parser.parse_args()
    if not options.check:
        generate(PROTO_DIR)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = [name for name in GENERATED if not filecmp.cmp(Path(tmp) / name, PROTO_DIR / name, shallow=False)]
    if stale:
        print(f"stale generated files: {', '.join(stale)}; run scripts/generate_proto.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
