"""Executors the gateway integration tests route through (in-process workers and `flowql executor`
processes, which import this module as `tests.app.gateway_executors:<Class>`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from flowql import Document, DocumentArray, Executor, requests


class Upper(Executor):
    """Upper-cases every document's text (any endpoint)."""

    @requests
    async def upper(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.text = (doc.text or "").upper()


class Exclaim(Executor):
    """Appends '!' to every document's text (any endpoint)."""

    @requests
    async def exclaim(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.text = (doc.text or "") + "!"


class Hello(Executor):
    """The seeds' B: text = 'hello <i>'."""

    @requests
    async def foo(self, docs: DocumentArray, **kwargs: Any) -> None:
        for index, doc in enumerate(docs):
            doc.text = f"hello {index}"


class World(Executor):
    """The seeds' A: text = 'world <i>'."""

    @requests
    async def foo(self, docs: DocumentArray, **kwargs: Any) -> None:
        for index, doc in enumerate(docs):
            doc.text = f"world {index}"


class Joiner(Executor):
    """The seeds' C: returns its docs and notes what the join gave it."""

    @requests
    async def foo(
        self,
        docs: DocumentArray,
        docs_matrix: list[DocumentArray] | None = None,
        docs_map: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> DocumentArray:
        for doc in docs:
            doc.tags["received"] = len(docs)
            doc.tags["matrix"] = [len(branch) for branch in docs_matrix or []]
            doc.tags["map"] = sorted(docs_map or {})
        return docs


class Fail(Executor):
    """Raises on every request."""

    @requests
    async def fail(self, docs: DocumentArray, **kwargs: Any) -> None:
        raise ValueError(f"refusing {len(docs)} documents")


class ShardSearch(Executor):
    """Adds two matches per document whose scores depend on the shard, and reports its shard."""

    @requests(on="/search")
    async def search(self, docs: DocumentArray, **kwargs: Any) -> None:
        shard = self.runtime_args.shard_id
        for doc in docs:
            doc.matches = DocumentArray(
                [Document(id=f"s{shard}-{rank}", scores={"cosine": 1.0 - (2 * rank + shard) / 10}) for rank in range(2)]
            )

    @requests(on="/where")
    async def where(self, docs: DocumentArray, **kwargs: Any) -> dict[str, Any]:
        return {"shard": self.runtime_args.shard_id}


class Probe(Executor):
    """Counts concurrent requests (in-process tests read the counters) and can be held by a gate."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.delay = 0.0
        # Set when a request arrives, for tests that must know it got here (not that it finished).
        self.entered = asyncio.Event()

    @requests
    async def probe(self, docs: DocumentArray, **kwargs: Any) -> None:
        self.calls += 1
        self.entered.set()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            for doc in docs:
                doc.tags["probed"] = True
        finally:
            self.in_flight -= 1


class Words(Executor):
    """A generator endpoint: one document per word."""

    @requests(on="/words")
    async def words(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        for word in (doc.text or "").split():
            yield Document(text=word)
