"""Executors: the `Executor` base class, the `@requests` decorator, Executor YAML, and the worker
that serves one Executor over gRPC (`flowql.executors.worker.ExecutorWorker`, `flowql executor`).

>>> from flowql.executors import Executor, requests
"""

from __future__ import annotations

from flowql.executors.decorators import requests
from flowql.executors.executor import Executor, ExecutorMetas, RuntimeArgs

__all__ = ["Executor", "ExecutorMetas", "RuntimeArgs", "requests"]
