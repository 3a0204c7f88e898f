"""Splitting an executor's batched stream responses back into one response per document.

The gateway asks an executor's ProcessStream for batched responses (`STREAM_BATCHED_METADATA`):
each may carry several documents (every document the generator yielded while the previous
response was being written; stream_index = the position of the first), because Python gRPC costs
the same per message whatever it holds. Everything above the transport keeps the contract of one
response per document, so the transport splits them here, at the protobuf byte level: no document
is decoded.
"""

from __future__ import annotations

from collections.abc import Iterator

from flowql._codec_scan import varint_at
from flowql._codec_wire import RawDocList
from flowql.proto.flowql_pb2 import DataRequest

__all__ = ["STREAM_BATCHED_METADATA", "split_doc_list", "split_response"]

# The same pair as flowql.executors.servicer.STREAM_BATCHED_METADATA (a test keeps them equal; the
# gateway does not import the executor package for one constant).
STREAM_BATCHED_METADATA = ("flowql-stream-batched", "1")

_DOCS_TAG = 0x0A  # DocListProto field 1 (`repeated DocProto docs`), length-delimited


def split_doc_list(data: bytes) -> list[bytes]:
    """The DocListProto bytes of each document in `data` (a DocListProto), in order.

    A DocListProto is its documents' `docs` entries back to back, and one entry alone is the
    DocListProto of that document: slicing at the entry boundaries is the whole split.
    """
    parts: list[bytes] = []
    position, end = 0, len(data)
    while position < end:
        if data[position] != _DOCS_TAG:
            return _split_parsed(data)  # not the canonical layout: let protobuf read it
        try:
            length, start = varint_at(data, position + 1)
        except IndexError:
            return _split_parsed(data)  # truncated: protobuf raises the proper error
        stop = start + length
        if stop > end:
            return _split_parsed(data)  # truncated: protobuf raises the proper error
        parts.append(data[position:stop])
        position = stop
    return parts


def split_response(response: DataRequest) -> Iterator[DataRequest]:
    """`response` as one response per document (stream_index counting on from its own); a
    response with at most one document, or an error, comes back as it is."""
    parts = split_doc_list(response.docs) if response.docs else []
    if len(parts) <= 1 or response.status.code:
        yield response
        return
    first = response.stream_index
    response.docs = b""  # the template: everything but the documents is the same for each
    for offset, part in enumerate(parts):
        item = DataRequest()
        item.CopyFrom(response)
        item.docs = part
        item.stream_index = first + offset
        yield item


def _split_parsed(data: bytes) -> list[bytes]:
    parts = []
    for doc in RawDocList.FromString(data).docs:
        one = RawDocList()
        one.docs.add().CopyFrom(doc)
        parts.append(one.SerializeToString())
    return parts
