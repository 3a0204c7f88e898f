"""Merging documents by id on the wire messages (`flowql.app.docs_merge`)."""

from __future__ import annotations

import numpy as np
from docarray import BaseDoc

from flowql.app.docs_merge import merge_doc_lists, parse_docs, sort_matches
from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document, DocumentArray


def merged(*lists: list[BaseDoc]) -> DocumentArray:
    result = merge_doc_lists(parse_docs(encode_docs(docs)) for docs in lists)
    return DocumentArray(decode_docs(result.SerializeToString(), Document))


def test_same_id_becomes_one_document_and_new_ids_are_appended() -> None:
    docs = merged([Document(id="a"), Document(id="b")], [Document(id="b"), Document(id="c")])
    assert [doc.id for doc in docs] == ["a", "b", "c"]


def test_a_field_set_in_one_list_fills_an_empty_one() -> None:
    (doc,) = merged([Document(id="a", text="t")], [Document(id="a", embedding=np.array([1.0, 2.0]))])
    assert doc.text == "t"
    assert doc.embedding is not None and list(doc.embedding) == [1.0, 2.0]


def test_where_both_set_a_field_the_later_list_wins() -> None:
    (doc,) = merged([Document(id="a", text="first")], [Document(id="a", text="second")])
    assert doc.text == "second"


def test_dict_fields_merge_key_by_key() -> None:
    (doc,) = merged(
        [Document(id="a", tags={"x": 1, "y": 1}, scores={"s": 0.1})],
        [Document(id="a", tags={"y": 2, "z": 2})],
    )
    assert doc.tags == {"x": 1, "y": 2, "z": 2}
    assert doc.scores == {"s": 0.1}


def test_matches_and_chunks_are_concatenated_without_repeating_ids() -> None:
    first = Document(id="a", matches=[Document(id="m1"), Document(id="m2")], chunks=[Document(id="c1")])
    second = Document(id="a", matches=[Document(id="m2"), Document(id="m3")], chunks=[Document(id="c2")])
    (doc,) = merged([first], [second])
    assert [m.id for m in doc.matches] == ["m1", "m2", "m3"]
    assert [c.id for c in doc.chunks] == ["c1", "c2"]


def test_fields_of_an_executors_own_schema_survive_the_merge() -> None:
    class Scored(BaseDoc):
        text: str = ""
        rank: int = 0
        label: str = ""

    result = merge_doc_lists(
        [
            parse_docs(encode_docs([Scored(id="a", text="t", rank=3)])),
            parse_docs(encode_docs([Scored(id="a", label="cat")])),
        ]
    )
    (doc,) = decode_docs(result.SerializeToString(), Scored)
    # A field left at its default (rank=0, text="") does not overwrite what the other branch set.
    assert (doc.text, doc.rank, doc.label) == ("t", 3, "cat")


def test_sort_matches_keeps_descending_similarities_descending() -> None:
    shard0 = [Document(id="q", matches=[Document(id="a", scores={"cos": 0.9}), Document(id="b", scores={"cos": 0.2})])]
    shard1 = [Document(id="q", matches=[Document(id="c", scores={"cos": 0.5})])]
    lists = [parse_docs(encode_docs(shard0)), parse_docs(encode_docs(shard1))]
    result = merge_doc_lists(lists)
    sort_matches(result, lists)
    (doc,) = decode_docs(result.SerializeToString(), Document)
    assert [m.id for m in doc.matches] == ["a", "c", "b"]


def test_sort_matches_keeps_ascending_distances_ascending() -> None:
    shard0 = [Document(id="q", matches=[Document(id="a", scores={"l2": 0.1}), Document(id="b", scores={"l2": 0.8})])]
    shard1 = [Document(id="q", matches=[Document(id="c", scores={"l2": 0.4})])]
    lists = [parse_docs(encode_docs(shard0)), parse_docs(encode_docs(shard1))]
    result = merge_doc_lists(lists)
    sort_matches(result, lists)
    (doc,) = decode_docs(result.SerializeToString(), Document)
    assert [m.id for m in doc.matches] == ["a", "c", "b"]


def test_sort_matches_leaves_matches_without_scores_in_order() -> None:
    shard0 = [Document(id="q", matches=[Document(id="b"), Document(id="a")])]
    lists = [parse_docs(encode_docs(shard0))]
    result = merge_doc_lists(lists)
    sort_matches(result, lists)
    (doc,) = decode_docs(result.SerializeToString(), Document)
    assert [m.id for m in doc.matches] == ["b", "a"]
