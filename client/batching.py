"""Turning `post()` inputs into a lazy stream of requests of `request_size` documents each.

Every input form of the seeds is accepted: one document, a list or DocumentArray, a (sync or
async) generator or iterable, a function returning one of those, and None for a request that
carries only parameters. Nothing is read ahead: the next batch is taken from the inputs (and
encoded) only when the transport asks for the next request.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from docarray import BaseDoc

from flowql.client.json_docs import doc_to_json
from flowql.codec import encode_docs
from flowql.documents import new_id
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import new_request

__all__ = ["RequestTemplate", "OutgoingRequest", "request_stream", "count_requests"]


@dataclass(frozen=True)
class RequestTemplate:
    """What every request of one `post()` shares."""

    endpoint: str
    parameters: dict[str, Any] | None = None
    target_executor: str = ""
    timeout: float = 0.0
    compression: str = ""


@dataclass(eq=False)
class OutgoingRequest:
    """One request on its way: its documents, its position in the post, and its send attempts."""

    seq: int
    template: RequestTemplate
    docs: Sequence[BaseDoc]
    request_id: str = field(default_factory=new_id)
    attempts: int = 0
    sent_at: float = 0.0
    _proto: DataRequest | None = None

    def proto(self) -> DataRequest:
        """The DataRequest; documents are encoded on the first call only, so a retry re-sends the same bytes."""
        if self._proto is None:
            template = self.template
            self._proto = new_request(
                template.endpoint,
                docs=encode_docs(self.docs) if self.docs else b"",
                parameters=template.parameters,
                target_executor=template.target_executor,
                timeout=template.timeout,
                request_id=self.request_id,
                compression=template.compression,
            )
        return self._proto

    def json_body(self) -> bytes:
        """The JSON body of `POST /post` (see `flowql.client.transports.http`)."""
        template = self.template
        body = {
            "data": [doc_to_json(doc) for doc in self.docs],
            "execEndpoint": template.endpoint,
            "parameters": template.parameters or {},
            "targetExecutor": template.target_executor or None,
            "requestId": self.request_id,
        }
        return json.dumps(body).encode()


async def request_stream(inputs: Any, request_size: int, template: RequestTemplate) -> AsyncIterator[OutgoingRequest]:
    """The requests for `inputs`, built one batch at a time as they are asked for.

    `request_size` is already validated (>= 1) by `PostOptions.build`.
    """
    if callable(inputs) and not isinstance(inputs, BaseDoc):
        inputs = inputs()
    seq = itertools.count()
    if inputs is None:
        yield OutgoingRequest(next(seq), template, ())
        return
    if isinstance(inputs, BaseDoc):
        yield OutgoingRequest(next(seq), template, (inputs,))
        return
    if isinstance(inputs, str | bytes | dict):
        raise TypeError(
            f"inputs must be documents, an iterable or generator of documents, or None; got {type(inputs).__name__}"
        )
    if isinstance(inputs, AsyncIterable):
        batch: list[BaseDoc] = []
        async for doc in inputs:
            batch.append(_checked(doc))
            if len(batch) == request_size:
                yield OutgoingRequest(next(seq), template, batch)
                batch = []
        if batch:
            yield OutgoingRequest(next(seq), template, batch)
        return
    if isinstance(inputs, Iterable):
        for chunk in _sync_batches(inputs, request_size):
            yield OutgoingRequest(next(seq), template, chunk)
        return
    raise TypeError(f"inputs must be documents, an iterable of documents, or None; got {type(inputs).__name__}")


def _sync_batches(inputs: Iterable[Any], request_size: int) -> Iterator[list[BaseDoc]]:
    iterator = iter(inputs)
    while True:
        batch = [_checked(doc) for doc in itertools.islice(iterator, request_size)]
        if not batch:
            return
        yield batch


def _checked(doc: Any) -> BaseDoc:
    if not isinstance(doc, BaseDoc):
        kind = type(doc).__name__
        raise TypeError(f"inputs must hold documents (docarray BaseDoc, e.g. flowql.Document), got {kind}")
    return doc


def count_requests(inputs: Any, request_size: int) -> int | None:
    """How many requests `inputs` makes, when that is known without consuming it (for the progress bar)."""
    if inputs is None or isinstance(inputs, BaseDoc):
        return 1
    if isinstance(inputs, Sequence) and not isinstance(inputs, str | bytes):
        return -(-len(inputs) // request_size)
    return None
