"""The graph package's public names, and their re-export from `flowql`."""

from __future__ import annotations

import flowql
import flowql.graph


def test_exported_members():
    assert set(flowql.graph.__all__) == {
        "AsyncFlow",
        "ExecutorSpec",
        "FloatingExecutorWarning",
        "Flow",
        "FlowPlan",
        "FlowSettings",
        "FlowState",
    }
    for name in flowql.graph.__all__:
        assert getattr(flowql.graph, name).__module__.startswith("flowql.graph.")


def test_flowql_reexports_the_flows():
    assert flowql.Flow is flowql.graph.Flow
    assert flowql.AsyncFlow is flowql.graph.AsyncFlow
