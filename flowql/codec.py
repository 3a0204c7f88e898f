"""Encoding and decoding documents to and from the bytes of a docarray `DocListProto`.

This is on every hot path. PLACEHOLDER implementation over docarray's own (slow) protobuf
methods; the fast codec replaces the bodies, keeping these signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from docarray import BaseDoc, DocList
from docarray.proto import DocListProto

__all__ = ["encode_docs", "decode_docs"]

TDoc = TypeVar("TDoc", bound=BaseDoc)


def encode_docs(docs: Sequence[BaseDoc]) -> bytes:
    """Serialize documents of any BaseDoc schema to DocListProto bytes."""
    proto = DocListProto()
    for doc in docs:
        proto.docs.append(doc.to_protobuf())
    data: bytes = proto.SerializeToString()
    return data


def decode_docs(data: bytes, doc_type: type[TDoc]) -> DocList[TDoc]:
    """Parse DocListProto bytes into a DocList of `doc_type`."""
    proto = DocListProto()
    proto.ParseFromString(data)
    return DocList[doc_type].from_protobuf(proto)  # type: ignore[valid-type]
