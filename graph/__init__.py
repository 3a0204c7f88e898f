"""The Flow: building and validating executor graphs, Flow YAML, starting and stopping their processes.

>>> from flowql import Flow
>>> f = Flow().add(name='upper', uses='Upper').add(name='index', uses='indexer.yml', shards=2, polling='ALL')

`FlowPlan` (what to run, and the topology document the gateway routes by) is kept apart from
`FlowLauncher` (running it as local processes), so a deployment exporter can reuse the plan.

The names are imported on first use: a Flow's child processes start through
`python -m flowql.graph.child_entry`, which must not pay for importing the Flow itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowql.graph.flow import AsyncFlow, FloatingExecutorWarning, Flow, FlowState
    from flowql.graph.plan import FlowPlan
    from flowql.graph.settings import FlowSettings
    from flowql.graph.spec import ExecutorSpec

__all__ = ["AsyncFlow", "ExecutorSpec", "FloatingExecutorWarning", "Flow", "FlowPlan", "FlowSettings", "FlowState"]

_LAZY = {
    "AsyncFlow": "flowql.graph.flow",
    "FloatingExecutorWarning": "flowql.graph.flow",
    "Flow": "flowql.graph.flow",
    "FlowState": "flowql.graph.flow",
    "FlowPlan": "flowql.graph.plan",
    "FlowSettings": "flowql.graph.settings",
    "ExecutorSpec": "flowql.graph.spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowql.graph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
