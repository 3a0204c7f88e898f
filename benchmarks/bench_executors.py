"""Executors the benchmarks run in real `flowql executor` processes (loaded with `--py-modules`)."""

from __future__ import annotations

import time
from typing import Any

from flowql.documents import DocumentArray
from flowql.executors import Executor, requests


class NoOp(Executor):
    """The reference "no-op executor": documents are decoded, handed to the handler and re-encoded,
    as Jina's `@requests def foo(self, docs, **kwargs): pass` does (no pass-through shortcut)."""

    @requests
    async def noop(self, docs: DocumentArray, **kwargs: Any) -> None:
        return None


class Burn(Executor):
    """CPU-bound: spins for `uses_with['ms_per_doc']` milliseconds of CPU per document (the
    replica curve: work that only more processes can spread)."""

    def __init__(self, ms_per_doc: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seconds_per_doc = ms_per_doc / 1000

    @requests
    def burn(self, docs: DocumentArray, **kwargs: Any) -> None:
        deadline = time.thread_time() + self._seconds_per_doc * len(docs)
        while time.thread_time() < deadline:
            pass
