"""`flowql export`: write deployment manifests for a Flow YAML.

flowql export kubernetes flow.yml OUTPUT_DIR [--namespace N] [--image I]
flowql export docker-compose flow.yml PATH [--image I]

Paths in the Flow YAML (`uses: x.yml`, `py_modules`) are written relative to the project root,
the folder the image holds as its working directory: by default the Flow YAML's own folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from flowql._exceptions import FlowQLError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowql export", description="Write deployment manifests for a Flow YAML.")
    targets = parser.add_subparsers(dest="target", required=True, metavar="{kubernetes,docker-compose}")

    kubernetes = targets.add_parser(
        "kubernetes", help="Deployments, Services, the topology ConfigMap and a kustomization.yaml"
    )
    kubernetes.add_argument("flow", help="the Flow YAML (jtype: Flow)")
    kubernetes.add_argument("output_dir", help="folder to write the manifests to (created if missing)")
    kubernetes.add_argument("--namespace", default=None, help="Kubernetes namespace (default: none, short DNS names)")
    kubernetes.add_argument("--cluster-domain", default="cluster.local", help="the cluster's DNS domain")

    compose = targets.add_parser("docker-compose", help="one Docker Compose file for a single host")
    compose.add_argument("flow", help="the Flow YAML (jtype: Flow)")
    compose.add_argument("path", help="the Compose file to write, e.g. docker-compose.yml")

    for target in (kubernetes, compose):
        target.add_argument("--image", default="flowql:latest", help="the image every container runs")
        target.add_argument(
            "--project-root",
            default=None,
            help="the folder the image holds at its working directory (default: the Flow YAML's folder)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from flowql.graph.flow import Flow

    project_root = Path(args.project_root) if args.project_root else Path(args.flow).resolve().parent
    try:
        plan = Flow.load_config(args.flow).plan
        if args.target == "kubernetes":
            from flowql.graph.kubernetes import write_kubernetes

            written = write_kubernetes(
                plan,
                args.output_dir,
                namespace=args.namespace,
                image=args.image,
                cluster_domain=args.cluster_domain,
                project_root=project_root,
            )
            for path in written:
                print(path)
            print(f"apply with: kubectl apply -k {args.output_dir}", file=sys.stderr)
        else:
            from flowql.graph.docker_compose import write_docker_compose

            path = write_docker_compose(plan, args.path, image=args.image, project_root=project_root)
            print(path)
            print(f"start with: docker compose -f {path} up", file=sys.stderr)
    except (FlowQLError, OSError) as exc:
        print(f"flowql export: {exc}", file=sys.stderr)
        return 1
    return 0
