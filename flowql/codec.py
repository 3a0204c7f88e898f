"""Encoding and decoding documents to and from the bytes of a docarray `DocListProto`.

This is on every hot path, so neither direction goes through docarray's per-document
`to_protobuf`/`from_protobuf` (about 20 and 100 µs per small document); the bytes are the
same format both ways, so docarray reads what this writes and the reverse:

- `flowql._codec_wire`: wire-compatible views of docarray's messages, parsed by upb;
- `flowql._codec_encode`: documents -> node bytes, dispatching on value types like docarray;
- `flowql._codec_plan`, `_codec_fields`, `_codec_values`, `_codec_scan`: a cached per-class
  plan that reads each field by its annotation and builds documents without re-validating
  them, falling back to docarray's own reading (validated) for anything it does not know.

Where it departs from docarray (each documented where it is made): a missing or empty id is
read as a fresh one, numpy scalars are written as Python values, and an int outside int32
travels as its text typed "int64" (docarray can write no such int and refuses to read this).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from docarray import BaseDoc, DocList

from flowql._codec_encode import encode_docs as _encode_docs
from flowql._codec_plan import plan_for
from flowql._codec_wire import RawDocList
from flowql.documents import Document, DocumentArray

__all__ = ["encode_docs", "decode_docs"]

TDoc = TypeVar("TDoc", bound=BaseDoc)


def encode_docs(docs: Sequence[BaseDoc]) -> bytes:
    """Serialize documents of any BaseDoc schema to DocListProto bytes (b"" for no documents)."""
    return _encode_docs(docs)


def decode_docs(data: bytes, doc_type: type[TDoc]) -> DocList[TDoc]:
    """Parse DocListProto bytes into a DocList of `doc_type` (a `DocumentArray` for `Document`).

    Fields the sender has but `doc_type` lacks are dropped, as docarray does; fields it lacks get
    their defaults; documents without an id get a fresh one.
    """
    docs: list[Any] = []
    if data:
        build = plan_for(doc_type).build
        docs = [build(doc.data) for doc in RawDocList.FromString(data).docs]
    if doc_type is Document:
        return DocumentArray(docs, validate_input_docs=False)  # type: ignore[return-value]
    return DocList[doc_type](docs, validate_input_docs=False)  # type: ignore[valid-type]
