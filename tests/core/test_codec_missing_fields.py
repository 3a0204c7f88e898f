"""Fields absent from the wire: fresh ids, defaults, required fields, dropped fields."""

from __future__ import annotations

import numpy as np
import pytest
from docarray import BaseDoc
from docarray.proto import DocListProto, DocProto, NodeProto
from docarray.typing import ID, NdArray
from pydantic import ValidationError

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from tests.core.codec_samples import (
    Article,
    Bare,
    Partial,
)

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
