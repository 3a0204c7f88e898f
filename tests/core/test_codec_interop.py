"""The codec and docarray read each other, and other encoders' layouts, the same way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from docarray import DocList
from docarray.base_doc import AnyDoc
from docarray.proto import DocListProto, DocProto, NodeProto
from docarray.typing import ID, NdArray
from pydantic import ValidationError

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document, DocumentArray
from tests.core.codec_samples import (
    Article,
    Bare,
    Counted,
    Exotic,
    Extended,
    Fixed,
    Holder,
    LooseCount,
    Open,
    Partial,
    Strict,
    Typed,
    assert_same_doc,
    docarray_decode,
    docarray_encode,
    full_article,
    full_document,
)

# ---------------------------------------------------------------------------------------------
# Interoperability with docarray's own encoder and decoder


def test_docarray_decodes_what_flowql_encodes() -> None:
    docs = [full_document(), Document(), Document(text="plain")]
    decoded = docarray_decode(encode_docs(docs), Document)
    for original, result in zip(docs, decoded, strict=True):
        assert_same_doc(original, result)


def test_flowql_decodes_what_docarray_encodes() -> None:
    docs = [full_document(), Document(), Document(text="plain")]
    data = DocumentArray(docs).to_protobuf().SerializeToString()
    decoded = decode_docs(data, Document)
    theirs = docarray_decode(data, Document)
    for original, result, reference in zip(docs, decoded, theirs, strict=True):
        assert_same_doc(original, result)
        assert result.model_fields_set == reference.model_fields_set


def test_user_schema_interoperates_both_ways() -> None:
    articles = [full_article(), Article(title="bare")]
    for original, result in zip(articles, docarray_decode(encode_docs(articles), Article), strict=True):
        assert_same_doc(original, result)
    for original, result in zip(articles, decode_docs(docarray_encode(articles), Article), strict=True):
        assert_same_doc(original, result)


def test_fields_without_a_fast_reader_decode_as_docarray_does() -> None:
    docs = [
        Exotic(link="https://example.org/x", either="text", labels={"a", "b"}, pair=(1, "one")),
        Exotic(either=5),
    ]
    ours = decode_docs(encode_docs(docs), Exotic)
    theirs = docarray_decode(docarray_encode(docs), Exotic)
    for original, result, reference in zip(docs, ours, theirs, strict=True):
        assert_same_doc(reference, result)
        assert result == original and result.id == original.id
    assert ours[0].labels == {"a", "b"} and ours[1].either == 5


def test_a_schema_with_its_own_validator_is_validated() -> None:
    assert decode_docs(encode_docs([Strict(count=3)]), Strict)[0].count == 3
    data = encode_docs([LooseCount(count="-4")])  # the wire says "-4": coerced, then refused
    with pytest.raises(ValidationError, match="must not be negative"):
        docarray_decode(data, Strict)
    with pytest.raises(ValidationError, match="must not be negative"):
        decode_docs(data, Strict)


def test_a_value_of_another_type_on_the_wire_is_coerced_or_refused_as_docarray_does() -> None:
    coerced = decode_docs(encode_docs([LooseCount(count="12")]), Strict)[0]
    assert coerced.count == 12 and type(coerced.count) is int
    with pytest.raises(ValidationError):
        decode_docs(encode_docs([LooseCount(count="twelve")]), Strict)
    with pytest.raises(ValidationError):
        docarray_decode(encode_docs([LooseCount(count="twelve")]), Strict)


@pytest.mark.filterwarnings("ignore:Tensor shape mismatch:UserWarning")  # docarray warns, then refuses
def test_a_parametrized_tensor_is_checked_like_docarray_checks_it() -> None:
    good = decode_docs(encode_docs([Fixed(vector=np.arange(4.0))]), Fixed)[0]
    assert isinstance(good.vector, NdArray) and good.vector.shape == (4,)
    wrong_size = NdArray._docarray_from_native(np.arange(5.0))._to_node_protobuf()
    data = DocListProto(docs=[DocProto(data={"vector": wrong_size})]).SerializeToString()
    with pytest.raises(ValidationError):
        docarray_decode(data, Fixed)
    with pytest.raises(ValidationError):
        decode_docs(data, Fixed)


def test_typed_containers_and_other_ids_round_trip() -> None:
    docs = [
        Typed(weights={"a": 1.5, "b": None}, names=["x", None], chunks=[b"\x00", b""], flags={"on": True}),
        Typed(parent_id=ID("p1"), other=ID("o")),
    ]
    for data in (encode_docs(docs), docarray_encode(docs)):
        for original, result in zip(docs, decode_docs(data, Typed), strict=True):
            assert_same_doc(original, result)
    assert decode_docs(encode_docs(docs), Typed)[0].other == ""  # only `id` itself gets a fresh one


@pytest.mark.parametrize(
    "sent",
    [Partial(text="12"), Partial(text="twelve"), Partial(text=None)],
    ids=["coercible", "not-coercible", "none"],
)
def test_a_field_of_another_type_is_read_as_docarray_reads_it(sent: Partial) -> None:
    data = encode_docs([sent])
    try:
        expected: Any = docarray_decode(data, Counted)[0].text
    except ValidationError as exc:
        expected = type(exc)
    try:
        got: Any = decode_docs(data, Counted)[0].text
    except ValidationError as exc:
        got = type(exc)
    assert got == expected


def test_a_nested_doc_field_holding_something_else_is_refused_as_docarray_refuses_it() -> None:
    data = _doc_list_bytes({"author": NodeProto(text="not a doc").SerializeToString()})
    with pytest.raises(ValidationError):
        docarray_decode(data, Counted)
    with pytest.raises(ValidationError):
        decode_docs(data, Counted)


def test_unparametrized_containers_and_any_round_trip() -> None:
    docs = [Bare(mapping={"a": [1, {"b": None}]}, items=[1, "x", 2.5], anything={"k": True}), Bare(anything=3)]
    for original, result in zip(docs, decode_docs(encode_docs(docs), Bare), strict=True):
        assert_same_doc(original, result)


def test_subclasses_and_document_array_fields_round_trip() -> None:
    extended = Extended(text="e", rank=3, matches=DocList[Document]([Document(text="m")]))
    decoded = decode_docs(encode_docs([extended]), Extended)
    assert_same_doc(extended, decoded[0])
    holder = Holder(docs=DocumentArray([Document(text="q", embedding=np.ones(2))]))
    result = decode_docs(encode_docs([holder]), Holder)[0]
    assert isinstance(result.docs, DocumentArray) and result.docs.texts == ["q"]
    assert_same_doc(holder, result)


def test_any_doc_and_extra_fields_decode_as_docarray_does() -> None:
    data = encode_docs([Document(text="x", tags={"a": 1}), Open(known=1, surplus="s")])
    ours, theirs = decode_docs(data, AnyDoc), docarray_decode(data, AnyDoc)
    assert [doc.__dict__ for doc in ours] == [doc.__dict__ for doc in theirs]
    opened = decode_docs(encode_docs([Open(known=2, surplus="s")]), Open)[0]
    reference = docarray_decode(encode_docs([Open(known=2, surplus="s")]), Open)[0]
    assert opened.known == 2 and opened.__pydantic_extra__ == reference.__pydantic_extra__ == {}


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _varint(len(body)) + body


def _doc_list_bytes(*docs: dict[str, bytes]) -> bytes:
    """DocListProto bytes written by hand, each node exactly as given (a parse-and-reserialize
    would normalize the layouts these tests are about)."""
    encoded = []
    for doc in docs:
        entries = [_field(0x0A, _field(0x0A, key.encode()) + _field(0x12, node)) for key, node in doc.items()]
        encoded.append(_field(0x0A, b"".join(entries)))
    return b"".join(encoded)


def test_nodes_laid_out_differently_by_other_encoders_are_read() -> None:
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    regular = NdArray._docarray_from_native(array)._to_node_protobuf()
    dense = _field(0x0A, array.tobytes()) + b"\x10\x02\x10\x03" + _field(0x1A, b"<i4")  # shape unpacked
    unpacked = _field(0x32, _field(0x0A, dense)) + _field(0x6A, b"ndarray")
    type_first = _field(0x6A, b"ndarray") + NodeProto(ndarray=regular.ndarray).SerializeToString()
    parameters = _field(0x32, regular.ndarray.SerializeToString() + _field(0x12, b"")) + _field(0x6A, b"ndarray")
    untyped = NodeProto(ndarray=regular.ndarray).SerializeToString()  # docarray refuses it; flowql reads it
    no_value = _field(0x62, _field(0x0A, _field(0x0A, b"k")))  # a dict entry with its value left out
    id_node = NodeProto(text="fixed", type="id").SerializeToString()
    for layout in (unpacked, type_first, parameters):
        data = _doc_list_bytes({"id": id_node, "embedding": layout, "tensor": layout, "tags": no_value})
        ours = decode_docs(data, Document)[0]
        theirs = docarray_decode(data, Document)[0]
        assert ours.embedding is not None and ours.embedding.dtype == np.int32
        np.testing.assert_array_equal(ours.embedding, array)
        assert ours.tags == theirs.tags == {"k": None}
        assert_same_doc(theirs, ours)
    decoded = decode_docs(_doc_list_bytes({"embedding": untyped}), Document)[0]
    np.testing.assert_array_equal(decoded.embedding, array)


@pytest.mark.parametrize(
    "integer",
    [
        b"\x10\x00",
        b"\x10\x80\x01",
        b"\x10\xff\xff\xff\xff\x0f",
        b"\x10" + b"\xff" * 9 + b"\x01",
        b"\x10\x80\x80\x80\x80\x08",
    ],
    ids=["zero", "two-byte", "five-byte-minus-one", "ten-byte-minus-one", "int32-min-as-uint32"],
)
def test_int32_nodes_read_as_protobuf_reads_them(integer: bytes) -> None:
    data = _doc_list_bytes(
        {
            "id": NodeProto(text="i", type="id").SerializeToString(),
            "tags": _field(0x62, _field(0x0A, _field(0x0A, b"n") + _field(0x12, integer))),
        }
    )
    assert decode_docs(data, Document)[0].tags == docarray_decode(data, Document)[0].tags
