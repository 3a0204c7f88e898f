"""Executors the client's integration test runs in real `flowql executor` processes."""

from __future__ import annotations

from typing import Any

from flowql import DocumentArray
from flowql.executors import Executor, requests


class Upper(Executor):
    @requests(on="/upper")
    async def upper(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for doc in docs:
            doc.text = (doc.text or "").upper()
        return {"seen": len(docs), "parameters": parameters}

    @requests(on="/fail")
    async def fail(self, docs: DocumentArray, **kwargs: Any) -> None:
        raise ValueError("failing on purpose")
