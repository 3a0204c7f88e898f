from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from docarray import BaseDoc, DocList
from docarray.base_doc import AnyDoc
from docarray.proto import DictOfAnyProto, DocListProto, DocProto, NodeProto
from docarray.typing import ID, AnyUrl, NdArray
from pydantic import ConfigDict, Field, ValidationError, field_validator

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document, DocumentArray

# ---------------------------------------------------------------------------------------------
# Schemas and helpers


class Author(BaseDoc):
    name: str
    age: int | None = None


class Article(BaseDoc):
    """A user schema: scalars, an optional tensor, JSON tags, a nested doc and a doc list."""

    title: str
    views: int = 0
    rating: float = 0.0
    published: bool = False
    raw: bytes | None = None
    embedding: NdArray | None = None  # type: ignore[type-arg]
    tags: dict[str, Any] = {}
    keywords: list[str] = []
    author: Author | None = None
    contributors: DocList[Author] = DocList[Author]()


class Exotic(BaseDoc):
    """Field types the fast path has no reader for: docarray's own reading takes them."""

    link: AnyUrl | None = None
    either: int | str = 0
    labels: set[str] = set()
    pair: tuple[int, str] | None = None


class Strict(BaseDoc):
    """A schema with its own validator: built with validation, like docarray does."""

    count: int = 0

    @field_validator("count")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("count must not be negative")
        return value


class Fixed(BaseDoc):
    vector: NdArray[4]  # type: ignore[valid-type]


class LooseCount(BaseDoc):
    count: str = ""


class Partial(BaseDoc):
    text: str | None = None


class Extended(Document):
    """A user subclass of the default document."""

    rank: int = 0


class Holder(BaseDoc):
    """A field typed with flowql's DocumentArray (a DocList subclass with its own __init__)."""

    docs: DocumentArray = Field(default_factory=DocumentArray)


class Open(BaseDoc):
    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]
    known: int = 0


class Typed(BaseDoc):
    """Typed containers and an ID that is not the document's own."""

    weights: dict[str, float | None] = {}
    names: list[str | None] = []
    chunks: list[bytes] = []
    flags: dict[str, bool] = {}
    parent_id: ID | None = None
    other: ID = ID("")


class Counted(BaseDoc):
    """Receives Partial's `text` as an int: the wire holds text, docarray coerces or refuses."""

    text: int | None = None
    author: Author | None = None


class Bare(BaseDoc):
    """Unparametrized containers: any JSON-like content."""

    mapping: dict = {}  # type: ignore[type-arg]
    items: list = []  # type: ignore[type-arg]
    anything: Any = None


def docarray_encode(docs: list[Any]) -> bytes:
    proto = DocListProto()
    for doc in docs:
        proto.docs.append(doc.to_protobuf())
    data: bytes = proto.SerializeToString()
    return data


def docarray_decode(data: bytes, doc_type: type[BaseDoc]) -> DocList[Any]:
    return DocList[doc_type].from_protobuf(DocListProto.FromString(data))  # type: ignore[valid-type]


def assert_same_json(left: Any, right: Any) -> None:
    """Equal, and of the same types all the way down (an int stays an int, a float a float)."""
    assert type(left) is type(right), (left, right)
    if isinstance(left, dict):
        assert sorted(left) == sorted(right)
        for key in left:
            assert_same_json(left[key], right[key])
    elif isinstance(left, list | tuple):
        assert len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            assert_same_json(a, b)
    elif isinstance(left, float) and math.isnan(left):
        assert math.isnan(right)
    else:
        assert left == right


def assert_same_doc(left: BaseDoc, right: BaseDoc) -> None:
    """Every field equal, ids included (BaseDoc's own == skips ids), tensors with dtype and shape."""
    assert type(left) is type(right)
    for name in type(left).model_fields:
        a, b = getattr(left, name), getattr(right, name)
        if isinstance(a, BaseDoc):
            assert_same_doc(a, b)
        elif isinstance(a, DocList):
            assert isinstance(b, DocList) and len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert_same_doc(x, y)
        elif isinstance(a, np.ndarray):
            assert isinstance(b, NdArray), type(b)
            assert b.dtype == a.dtype and b.shape == a.shape
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        elif isinstance(a, dict):
            assert_same_json(a, b)
        else:
            assert a == b, (name, a, b)
            assert type(a) is type(b) or a is None, (name, type(a), type(b))
    assert left == right


def full_document() -> Document:
    def match(level: int, index: int) -> Document:
        children = [match(level + 1, i) for i in range(2)] if level < 2 else []
        return Document(
            text=f"match {level}.{index}",
            scores={"cosine": 0.5 + index, "rank": float(index)},
            tags={"level": level},
            matches=DocList[Document](children),
            chunks=DocList[Document]([Document(text=f"chunk of {level}.{index}", scores={"bm25": 1.25})]),
        )

    return Document(
        text="hello world",
        uri="https://example.org/a.png",
        mime_type="image/png",
        tags={
            "int": 3,
            "negative": -7,
            "zero": 0,
            "float": 2.5,
            "whole_float": 3.0,
            "true": True,
            "false": False,
            "none": None,
            "text": "x",
            "list": [1, 2.5, "y", None, [True, {"deep": -1}]],
            "nested": {"a": {"b": {"c": [1, 2]}}},
            "empty_list": [],
            "empty_dict": {},
        },
        embedding=np.arange(8, dtype=np.float32),
        tensor=np.arange(6, dtype=np.int64).reshape(2, 3),
        blob=b"\x00\x01\xff binary",
        scores={"score": 0.75, "other": -1.0},
        matches=DocList[Document]([match(1, 0), match(1, 1)]),
        chunks=DocList[Document]([Document(text="chunk", chunks=DocList[Document]([Document(text="sub")]))]),
    )


def full_article() -> Article:
    return Article(
        title="Über τέλος 🚀",
        views=42,
        rating=4.5,
        published=True,
        raw=b"\x00" * 10,
        embedding=np.linspace(0, 1, 5, dtype=np.float64),
        tags={"lang": "de", "year": 2024, "ratio": 0.25, "flags": [True, False]},
        keywords=["a", "b"],
        author=Author(name="Ada", age=36),
        contributors=DocList[Author]([Author(name="Bob"), Author(name="Cy", age=7)]),
    )


# ---------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_keeps_every_document_field() -> None:
    doc = full_document()
    decoded = decode_docs(encode_docs([doc]), Document)
    assert len(decoded) == 1
    assert_same_doc(doc, decoded[0])
    assert type(decoded[0].tags["int"]) is int and type(decoded[0].tags["whole_float"]) is float


def test_round_trip_keeps_nested_matches_and_chunks_two_levels_deep() -> None:
    doc = full_document()
    decoded = decode_docs(encode_docs([doc]), Document)[0]
    grandchild = decoded.matches[1].matches[0]
    assert grandchild.text == "match 2.0" and grandchild.id == doc.matches[1].matches[0].id
    assert grandchild.scores == {"cosine": 0.5, "rank": 0.0}
    assert decoded.matches[1].chunks[0].scores == {"bm25": 1.25}
    assert decoded.chunks[0].chunks[0].text == "sub"
    assert isinstance(decoded.matches, DocList) and isinstance(decoded.matches[0], Document)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 1, 3), ()])
def test_round_trip_keeps_tensor_dtype_shape_and_values(dtype: Any, shape: tuple[int, ...]) -> None:
    array = (np.arange(int(np.prod(shape))) % 5).astype(dtype).reshape(shape)
    doc = Document(embedding=array, tensor=array.T)
    decoded = decode_docs(encode_docs([doc]), Document)[0]
    assert_same_doc(doc, decoded)
    assert decoded.embedding is not None and decoded.embedding.flags.writeable
    decoded.embedding[...] = 0  # a writable copy, not a view of the message


def test_round_trip_keeps_non_contiguous_big_endian_and_empty_tensors() -> None:
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    doc = Document(embedding=base[:, ::2], tensor=np.arange(3, dtype=">i4"))
    decoded = decode_docs(encode_docs([doc]), Document)[0]
    assert_same_doc(doc, decoded)
    empty = decode_docs(encode_docs([Document(embedding=np.zeros((0, 3), dtype=np.int16))]), Document)[0]
    assert empty.embedding is not None and empty.embedding.shape == (0, 3) and empty.embedding.dtype == np.int16


def test_round_trip_keeps_unicode_text_of_any_length() -> None:
    texts = ["", "ascii", "Grüße, 世界! 🚀🧪", "e\u0301" * 3, "ü" * 70, "🚀" * 5000]
    docs = [Document(text=text, tags={text: text}) for text in texts]
    decoded = decode_docs(encode_docs(docs), Document)
    assert [doc.text for doc in decoded] == texts
    assert [doc.tags for doc in decoded] == [{text: text} for text in texts]


def test_round_trip_keeps_large_blobs_and_tensors() -> None:
    blob = np.random.default_rng(1).bytes(5 * 1024 * 1024)
    tensor = np.random.default_rng(2).random((512, 512)).astype(np.float32)
    decoded = decode_docs(encode_docs([Document(blob=blob, tensor=tensor)]), Document)[0]
    assert decoded.blob == blob
    assert decoded.tensor is not None
    np.testing.assert_array_equal(decoded.tensor, tensor)


def test_round_trip_keeps_tag_types_order_and_int32_edges() -> None:
    tags = {
        "z": 1,
        "a": -(2**31),
        "m": 2**31 - 1,
        "big": 2**40,
        "huge_negative": -(2**63),
        "nan": float("nan"),
        "inf": float("-inf"),
        "tuple": (1, "two"),
        "unit": {"x": None},
    }
    decoded = decode_docs(encode_docs([Document(tags=tags)]), Document)[0]
    assert_same_json(tags, decoded.tags)
    assert list(decoded.tags) == list(tags)  # docarray's own reading does not keep the order


def test_numpy_scalars_in_tags_are_written_as_python_values() -> None:
    tags = {"f": np.float32(1.5), "i": np.int64(7), "b": np.bool_(True)}
    decoded = decode_docs(encode_docs([Document(tags=tags)]), Document)[0]
    assert_same_json({"f": 1.5, "i": 7, "b": True}, decoded.tags)


def test_scores_written_as_ints_are_read_as_floats() -> None:
    doc = Document()
    doc.tags = {"k": 1}
    proto = DocListProto()
    proto.docs.append(doc.to_protobuf())
    proto.docs[0].data["scores"].CopyFrom(NodeProto(dict=DictOfAnyProto(data={"s": NodeProto(integer=2)})))
    decoded = decode_docs(proto.SerializeToString(), Document)[0]
    assert decoded.scores == {"s": 2.0} and type(decoded.scores["s"]) is float


def test_round_trip_keeps_a_user_schema_with_nested_doc_and_doc_list() -> None:
    articles = [full_article(), Article(title="bare")]
    decoded = decode_docs(encode_docs(articles), Article)
    assert type(decoded) is type(DocList[Article]([]))
    for original, result in zip(articles, decoded, strict=True):
        assert_same_doc(original, result)
    assert isinstance(decoded[0].contributors[1], Author) and decoded[0].contributors[1].age == 7


def test_empty_input_is_empty_bytes_and_an_empty_list() -> None:
    assert encode_docs([]) == b""
    assert encode_docs(DocumentArray()) == b""
    documents = decode_docs(b"", Document)
    assert isinstance(documents, DocumentArray) and len(documents) == 0
    articles = decode_docs(b"", Article)
    assert isinstance(articles, DocList) and articles.doc_type is Article and len(articles) == 0


def test_decoding_documents_gives_a_document_array() -> None:
    decoded = decode_docs(encode_docs([Document(id="a", text="x"), Document(id="b", text="y")]), Document)
    assert isinstance(decoded, DocumentArray)
    assert decoded.texts == ["x", "y"] and decoded["b"].text == "y"


def test_decoded_documents_share_no_mutable_values() -> None:
    first, second = decode_docs(encode_docs([Document(text="a"), Document(text="b")]), Document)
    first.tags["x"] = 1
    first.scores["s"] = 1.0
    first.matches.append(Document())
    first.chunks.append(Document())
    assert second.tags == {} and second.scores == {} and len(second.matches) == len(second.chunks) == 0
    assert first.matches is not first.chunks


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


# ---------------------------------------------------------------------------------------------
# Ids, defaults and fields that are not on the wire


def _without(data: bytes, *fields: str) -> bytes:
    proto = DocListProto.FromString(data)
    for doc in proto.docs:
        for name in fields:
            del doc.data[name]
    stripped: bytes = proto.SerializeToString()
    return stripped


def test_documents_without_an_id_on_the_wire_get_distinct_fresh_ids() -> None:
    data = _without(encode_docs([Document(text=str(i)) for i in range(50)]), "id")
    decoded = decode_docs(data, Document)
    ids = [doc.id for doc in decoded]
    assert len(set(ids)) == 50
    assert all(isinstance(doc_id, ID) and len(doc_id) == 32 for doc_id in ids)
    articles = decode_docs(_without(encode_docs([Article(title="a"), Article(title="b")]), "id"), Article)
    assert articles[0].id and articles[1].id and articles[0].id != articles[1].id


@pytest.mark.parametrize("empty_id", [NodeProto(), NodeProto(text="", type="id")])
def test_an_empty_id_on_the_wire_gets_a_fresh_id(empty_id: NodeProto) -> None:
    proto = DocListProto()
    for _ in range(3):
        proto.docs.append(DocProto(data={"id": empty_id, "text": NodeProto(text="t")}))
    decoded = decode_docs(proto.SerializeToString(), Document)
    assert len({doc.id for doc in decoded}) == 3 and all(doc.id for doc in decoded)


def test_fields_missing_from_the_wire_get_fresh_defaults() -> None:
    data = _without(encode_docs([Document(text="a"), Document(text="b")]), "tags", "matches", "scores")
    first, second = decode_docs(data, Document)
    first.tags["x"] = 1
    first.matches.append(Document())
    assert second.tags == {} and len(second.matches) == 0 and second.scores == {}
    assert first.model_fields_set == set(Document.model_fields) - {"tags", "matches", "scores"}


class WithPlainDefaults(BaseDoc):
    labels: list[str] = ["new"]  # a plain mutable default, not a factory
    weight: float = 1.5
    note: str | None = None


def test_plain_mutable_defaults_are_copied_per_document() -> None:
    data = _without(encode_docs([WithPlainDefaults(), WithPlainDefaults()]), "labels", "weight", "note")
    first, second = decode_docs(data, WithPlainDefaults)
    first.labels.append("changed")
    assert second.labels == ["new"] and WithPlainDefaults.model_fields["labels"].default == ["new"]
    assert (second.weight, second.note) == (1.5, None)


def test_a_required_field_missing_from_the_wire_is_refused() -> None:
    with pytest.raises(ValidationError, match="title"):
        decode_docs(_without(encode_docs([Article(title="t")]), "title"), Article)


def test_fields_the_receiving_schema_lacks_are_dropped() -> None:
    decoded = decode_docs(encode_docs([Document(text="kept", tags={"dropped": 1})]), Partial)
    assert decoded[0].text == "kept" and not hasattr(decoded[0], "tags")


def test_decoded_documents_behave_like_validated_ones() -> None:
    doc = decode_docs(encode_docs([Document(text="a")]), Document)[0]
    doc.embedding = [1.0, 2.0]  # type: ignore[assignment]  # validate_assignment still converts
    assert isinstance(doc.embedding, NdArray)
    with pytest.raises(ValidationError):
        doc.scores = "not a dict"  # type: ignore[assignment]
    doc.matches.append(Document(text="m"))
    assert doc.model_dump()["matches"][0]["text"] == "m"
    assert Document.model_validate(doc.model_dump()) == doc


def test_values_that_protobuf_cannot_carry_are_refused() -> None:
    with pytest.raises(ValueError, match="string as key"):
        encode_docs([Bare(mapping={1: "x"})])
    with pytest.raises(ValueError):
        encode_docs([Bare(anything=object())])
    with pytest.raises(ValueError, match="objects"):
        encode_docs([Document(tensor=np.array([object()]))])
