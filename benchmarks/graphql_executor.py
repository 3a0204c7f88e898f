"""The executor of benchmarks/graphql.py (loaded by the executor process through --py-modules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from flowql import Document, DocumentArray, Executor, requests


class BenchExecutor(Executor):
    """`/echo` returns the documents as they came; `/count` yields `int(doc.text)` documents."""

    @requests(on="/echo")
    async def echo(self, docs: DocumentArray, **kwargs: Any) -> None:
        return None

    @requests(on="/count")
    async def count(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        for index in range(int(doc.text or "0")):
            yield Document(text=str(index))
