"""The worker processes an executor spec needs: one `WorkerSettings` per replica of each shard."""

from __future__ import annotations

import os

from flowql.executors.settings import WorkerSettings
from flowql.graph.spec import ExecutorSpec
from flowql.graph.uses import WorkerUses

__all__ = ["worker_settings"]


def worker_settings(
    spec: ExecutorSpec,
    uses: WorkerUses,
    *,
    host: str | None = None,
    port: int | None = None,
    py_modules: list[str] | None = None,
) -> list[list[WorkerSettings]]:
    """`result[shard][replica]`: the settings of each process of an executor.

    Keywords given to `.add()` win over what a `uses` dict carried. `host`, `port` and `py_modules`
    replace the local process's (the spec's host and port, absolute module paths): an export's
    containers bind elsewhere and read paths relative to the image's project folder.
    """
    if py_modules is None:
        # The worker runs in the same folder, but absolute paths also survive a YAML's own folder.
        py_modules = [os.path.abspath(module) for module in [*uses.py_modules, *spec.py_modules]]
    if host is None:
        host = spec.host if isinstance(spec.host, str) else spec.host[0]
    if port is None:
        port = spec.port if isinstance(spec.port, int) else 0
    return [
        [
            WorkerSettings(
                name=spec.name,
                uses=uses.uses,
                uses_with={**uses.uses_with, **spec.uses_with},
                uses_metas={**uses.uses_metas, **spec.uses_metas},
                uses_requests={**uses.uses_requests, **spec.uses_requests},
                py_modules=list(py_modules),
                host=host,
                port=port,
                shard_id=shard_id,
                shards=spec.shards,
                replica_id=replica_id,
                replicas=spec.replicas,
                workspace=spec.workspace,
                grace=spec.grace,
            )
            for replica_id in range(spec.replicas)
        ]
        for shard_id in range(spec.shards)
    ]
