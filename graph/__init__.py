"""The Flow: building and validating executor graphs, Flow YAML, starting and stopping their processes.

>>> from flowql import Flow
>>> f = Flow().add(name='upper', uses='Upper').add(name='index', uses='indexer.yml', shards=2, polling='ALL')

`FlowPlan` (what to run, and the topology document the gateway routes by) is kept apart from
`FlowLauncher` (running it as local processes), so a deployment exporter can reuse the plan.
"""

from flowql.graph.flow import AsyncFlow, FloatingExecutorWarning, Flow, FlowState
from flowql.graph.plan import FlowPlan
from flowql.graph.settings import FlowSettings
from flowql.graph.spec import ExecutorSpec

__all__ = ["AsyncFlow", "ExecutorSpec", "FloatingExecutorWarning", "Flow", "FlowPlan", "FlowSettings", "FlowState"]
