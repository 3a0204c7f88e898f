"""Executors the worker tests serve; workers import this file with --py-modules."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from docarray import BaseDoc, DocList
from docarray.typing import NdArray

from flowql import Document, DocumentArray, Executor, requests

GATE_WAIT_S = 20.0


async def wait_for_file(path: str) -> None:
    """Wait (bounded) until the test creates `path`: how tests hold a handler at a known point."""
    deadline = time.monotonic() + GATE_WAIT_S
    while not os.path.exists(path):  # noqa: ASYNC240 - a stat of a local tmp file
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {path} never opened")
        await asyncio.sleep(0.005)


def wait_for_file_blocking(path: str) -> None:
    deadline = time.monotonic() + GATE_WAIT_S
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {path} never opened")
        time.sleep(0.005)


class Upper(Executor):
    """Upper-cases text, async; adds `suffix` from uses_with."""

    def __init__(self, suffix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suffix = suffix

    @requests(on="/upper")
    async def upper(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        """Upper-case every document's text."""
        for doc in docs:
            doc.text = (doc.text or "").upper() + self.suffix


class MyExecutor(Executor):
    """The seed's `myexec.py`: its own argument only, `super().__init__()` with none."""

    def __init__(self, bar: int) -> None:
        super().__init__()
        self.bar = bar

    def foo(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.tags["bar"] = self.bar
            doc.tags["metas_name"] = self.metas.name
            doc.tags["description"] = self.metas.description
            doc.tags["runtime_name"] = self.runtime_args.name


class Mixed(Executor):
    """Sync, async, dict-returning, failing, generator and default handlers in one executor."""

    def __init__(self, close_marker: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.close_marker = close_marker

    @requests(on=["/sync", "/sync-alias"])
    def sync_handler(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.text = f"sync:{doc.text}:{threading.current_thread().name}"

    @requests(on="/async")
    async def async_handler(self, docs: DocumentArray, **kwargs: Any) -> DocumentArray:
        return DocumentArray([Document(text=f"async:{doc.text}") for doc in docs])

    @requests(on="/results")
    def results(self, docs: DocumentArray, parameters: dict[str, Any]) -> dict[str, Any]:
        return {"count": len(docs), "echo": parameters.get("echo")}

    @requests(on="/fail")
    async def fail(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        if parameters.get("fail"):
            raise ValueError(f"asked to fail with {len(docs)} docs")
        for doc in docs:
            doc.text = "survived"

    @requests(on="/slow")
    def slow(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        Path(parameters["started"]).touch()
        wait_for_file_blocking(parameters["gate"])
        for doc in docs:
            doc.text = "slow done"

    @requests(on="/stream")
    async def stream(self, doc: Document, parameters: dict[str, Any], **kwargs: Any) -> AsyncIterator[Document]:
        """Yields three documents per input; waits for the gate before the last."""
        for index in range(3):
            if index == 2 and parameters.get("gate"):
                await wait_for_file(parameters["gate"])
            yield Document(text=f"{doc.text}-{index}")

    @requests(on="/sync-stream")
    def sync_stream(self, doc: Document, parameters: dict[str, Any], **kwargs: Any) -> Iterator[Document]:
        for index in range(3):
            if index == 2 and parameters.get("gate"):
                wait_for_file_blocking(parameters["gate"])
            if index == 1 and parameters.get("fail"):
                raise RuntimeError("stream broke")
            yield Document(text=f"{doc.text}-sync-{index}")

    @requests
    def merge(self, docs: DocumentArray, docs_matrix: list[DocumentArray] | None, docs_map: dict[str, Any] | None):
        """Default handler: reports what the merge gave it."""
        for doc in docs:
            doc.tags["matrix_sizes"] = [len(branch) for branch in docs_matrix or []]
            doc.tags["map_keys"] = sorted(docs_map or {})

    def close(self) -> None:
        if self.close_marker:
            Path(self.close_marker).write_text("closed")


class MyIn(BaseDoc):
    text: str = ""


class MyOut(BaseDoc):
    text: str = ""
    length: int = 0
    embedding: NdArray[4] | None = None  # type: ignore[valid-type]


class Typed(Executor):
    """Typed handlers: custom BaseDoc input and output, a typed generator, async close()."""

    @requests(on="/embed")
    async def embed(self, docs: DocList[MyIn], **kwargs: Any) -> DocList[MyOut]:
        """Embeds text into 4 numbers."""
        import numpy as np

        return DocList[MyOut](
            MyOut(text=doc.text, length=len(doc.text), embedding=np.arange(4, dtype=np.float32) * len(doc.text))
            for doc in docs
        )

    @requests(on="/typed-stream")
    async def typed_stream(self, doc: MyIn, **kwargs: Any) -> AsyncIterator[MyOut]:
        for word in doc.text.split():
            yield MyOut(text=word, length=len(word))

    async def close(self) -> None:
        marker = os.environ.get("FLOWQL_TEST_CLOSE_MARKER")
        if marker:
            Path(marker).write_text("async closed")  # noqa: ASYNC240 - tiny local write at shutdown


class BadInit(Executor):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        raise ValueError("bad init on purpose")
