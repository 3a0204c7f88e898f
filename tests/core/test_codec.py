"""The codec round trip: every field, tensor and schema comes back as it went."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from docarray import DocList
from docarray.proto import DictOfAnyProto, DocListProto, NodeProto

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document, DocumentArray
from tests.core.codec_samples import (
    Article,
    Author,
    assert_same_doc,
    assert_same_json,
    full_article,
    full_document,
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
