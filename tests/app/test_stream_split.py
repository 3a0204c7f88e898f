"""The gateway's side of batched executor streams: the transport asks for batches and splits them
back into one response per document, so everything above it sees the one-per-document contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np

from flowql import Document
from flowql.app.grpc_transport import GrpcTransport
from flowql.app.stream_split import STREAM_BATCHED_METADATA, split_doc_list, split_response
from flowql.codec import decode_docs, encode_docs
from flowql.executors import Executor, requests
from flowql.executors.servicer import STREAM_BATCHED_METADATA as EXECUTOR_METADATA
from flowql.executors.worker import ExecutorWorker
from flowql.proto import flowql_pb2_grpc
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import add_route, new_request, set_error

from .grpc_gateway_harness import request_of, transport_to


class Counter(Executor):
    """Yields `int(doc.text)` documents as fast as it can."""

    @requests(on="/count")
    async def count(self, doc: Document, **kwargs: Any) -> AsyncIterator[Document]:
        for index in range(int(doc.text or "0")):
            yield Document(text=str(index))


class Prebatched(flowql_pb2_grpc.ExecutorServiceServicer):
    """Answers ProcessStream with two multi-document responses and records the caller's metadata."""

    def __init__(self) -> None:
        self.metadata: list[tuple[str, str | bytes]] = []

    async def ProcessStream(
        self, request: DataRequest, context: grpc.aio.ServicerContext[DataRequest, DataRequest]
    ) -> AsyncIterator[DataRequest]:
        self.metadata = [(item[0], item[1]) for item in context.invocation_metadata() or ()]
        for first, texts in ((0, ["a", "b", "c"]), (3, ["d", "e"])):
            response = DataRequest(docs=encode_docs([Document(text=t) for t in texts]), stream_index=first)
            response.header.CopyFrom(request.header)
            yield response


def texts_of(data: bytes) -> list[str]:
    return [doc.text or "" for doc in decode_docs(data, Document)]


def test_split_doc_list_gives_each_document_as_its_own_doclist() -> None:
    docs = [
        Document(text="short"),
        Document(text="x" * 5000, tags={"k": [1, 2]}),  # a multi-byte length prefix
        Document(embedding=np.arange(4, dtype=np.float32)),
        Document(),
    ]
    data = encode_docs(docs)
    parts = split_doc_list(data)
    assert b"".join(parts) == data
    decoded = [decode_docs(part, Document) for part in parts]
    assert [len(one) for one in decoded] == [1, 1, 1, 1]
    assert [one[0].id for one in decoded] == [doc.id for doc in docs]
    assert decoded[1][0].text == "x" * 5000 and decoded[1][0].tags == {"k": [1, 2]}
    embedding = decoded[2][0].embedding
    assert embedding is not None and np.asarray(embedding).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert split_doc_list(b"") == []


def test_split_doc_list_reads_other_layouts_through_protobuf() -> None:
    docs = [Document(text="a"), Document(text="b")]
    # An unknown field (2, empty bytes) after the documents: not the canonical layout.
    parts = split_doc_list(encode_docs(docs) + b"\x12\x00")
    assert [texts_of(part) for part in parts] == [["a"], ["b"]]


def test_split_response_numbers_documents_on_from_its_index() -> None:
    response = new_request("/count", docs=encode_docs([Document(text=t) for t in "xyz"]), parameters={"p": 1})
    response.stream_index = 10
    add_route(response, "exec", 1, shard=0, replica=0, address="here")
    items = list(split_response(response))
    assert [texts_of(item.docs) for item in items] == [["x"], ["y"], ["z"]]
    assert [item.stream_index for item in items] == [10, 11, 12]
    assert all(item.header == response.header and item.parameters == response.parameters for item in items)
    assert all([route.executor for route in item.routes] == ["exec"] for item in items)

    single = new_request("/count", docs=encode_docs([Document(text="only")]))
    assert list(split_response(single)) == [single]
    failed = new_request("/count", docs=encode_docs([Document(), Document()]))
    set_error(failed, "exec", ValueError("boom"))
    assert list(split_response(failed)) == [failed]


def test_gateway_and_executor_agree_on_the_metadata() -> None:
    assert STREAM_BATCHED_METADATA == EXECUTOR_METADATA


async def test_transport_asks_for_batches_and_splits_them() -> None:
    servicer = Prebatched()
    async with transport_to(servicer, "pre") as transport:
        responses = [r async for r in transport.stream(request_of(Document(), endpoint="/count"))]
    assert STREAM_BATCHED_METADATA in servicer.metadata
    assert [texts_of(r.docs) for r in responses] == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert [r.stream_index for r in responses] == [0, 1, 2, 3, 4]


async def test_fast_generator_through_the_transport_is_one_response_per_document() -> None:
    total = 3000
    async with ExecutorWorker(Counter(), name="c") as worker:
        transport = GrpcTransport("c", [worker.address])
        try:
            responses = [r async for r in transport.stream(request_of(Document(text=str(total)), endpoint="/count"))]
        finally:
            await transport.aclose()
    assert [texts_of(r.docs) for r in responses] == [[str(i)] for i in range(total)]
    assert [r.stream_index for r in responses] == list(range(total))
    assert all(r.routes[-1].executor == "c" for r in responses)
