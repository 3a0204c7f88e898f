"""Documents as dicts <-> DocListProto bytes, checked against docarray's own decoding."""

from __future__ import annotations

import numpy as np
import pytest
from docarray import BaseDoc, DocList
from docarray.typing import NdArray

from flowql.app.doc_schema import compile_schema, default_document_schema
from flowql.app.doc_wire import InputError, decode_dicts, decode_lazy, encode_dicts, prepare_docs
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document


class Inner(BaseDoc):
    score: float = 0.0


class Rich(BaseDoc):
    title: str
    count: int = 0
    vector: NdArray[2] | None = None  # type: ignore[valid-type]
    raw: bytes | None = None
    meta: dict[str, object] = {}
    inner: Inner | None = None
    inners: DocList[Inner] = DocList[Inner]()
    names: list[str] = []


def test_encoded_dicts_decode_with_the_executors_class() -> None:
    schema = compile_schema(Rich.model_json_schema())
    docs = prepare_docs(
        [
            {
                "title": "t",
                "count": 3,
                "vector": [1.5, 2.5],
                "raw": b"\x00\x01",
                "meta": {"a": [1, "x"], "big": 2**40},
                "inner": {"score": 0.5},
                "inners": [{"score": 1.0}, {"score": 2.0}],
                "names": ["a", "b"],
            }
        ],
        schema,
    )
    (doc,) = decode_docs(encode_dicts(docs, schema), Rich)
    assert doc.id == docs[0]["id"] and len(str(doc.id)) == 32
    assert (doc.title, doc.count, doc.raw, doc.names) == ("t", 3, b"\x00\x01", ["a", "b"])
    assert doc.vector is not None and np.allclose(np.asarray(doc.vector), [1.5, 2.5])
    assert doc.meta == {"a": [1, "x"], "big": 2**40}
    assert doc.inner is not None and doc.inner.score == 0.5 and doc.inner.id
    assert [item.score for item in doc.inners] == [1.0, 2.0]


def test_prepare_gives_fresh_ids_and_checks_tensor_sizes() -> None:
    schema = compile_schema(Rich.model_json_schema())
    first, second = prepare_docs([{"title": "a"}, {"title": "b", "id": "mine"}], schema)
    assert first["id"] != second["id"] and second["id"] == "mine"
    with pytest.raises(InputError, match=r"document 0: field 'vector' must hold 2 numbers \(shape \[2\]\), got 3"):
        prepare_docs([{"title": "a", "vector": [1, 2, 3]}], schema)


def test_unknown_fields_and_wrong_kinds_are_input_errors() -> None:
    schema = default_document_schema()
    with pytest.raises(InputError, match="no field 'txt'"):
        encode_dicts([{"txt": "a"}], schema)
    with pytest.raises(InputError, match="'text'"):
        encode_dicts([{"text": 5}], schema)


def test_decoding_matches_what_docarray_sent() -> None:
    sent = Document(
        id="d",
        text="hi",
        tags={"k": "v", "big": 2**40},
        embedding=np.array([[1.0, 2.0]]),
        matches=[Document(id="m", text="x")],
    )
    (flat,) = decode_dicts(encode_docs([sent]))
    (nested,) = decode_dicts(encode_docs([sent]), flat_tensors=False)
    (lazy,) = decode_lazy(encode_docs([sent]))
    assert flat["embedding"] == [1.0, 2.0] and nested["embedding"] == [[1.0, 2.0]]
    assert flat["tags"] == {"k": "v", "big": 2**40} and flat["matches"][0]["id"] == "m"
    assert "uri" not in flat  # empty on the wire: left out
    assert (lazy.id, lazy.text, lazy.embedding, lazy.uri) == ("d", "hi", [1.0, 2.0], None)
    assert lazy.matches[0].text == "x"
