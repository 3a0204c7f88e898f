"""The example application's executors, called in-process as plain methods (no worker, no Flow)."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from docarray import DocList

from flowql.executors.loader import import_py_modules
from tests.conftest import REPO_ROOT

PIPELINE_FILE = REPO_ROOT / "examples" / "textsearch" / "pipeline.py"

TEXT = (
    "GraphQL lets a client ask for exactly the fields it needs. A subscription keeps a connection open! "
    "Does gRPC carry protobuf messages?\n\nSharding splits an index into parts."
)


@pytest.fixture(scope="module")
def pipeline() -> ModuleType:
    """The example's executors file, imported by path exactly as the worker's `py_modules` does.

    The same loader matters: a Flow started later in this process finds these classes registered
    by name and refers the executor processes to them by their module's name.
    """
    [module] = import_py_modules([str(PIPELINE_FILE)])
    return module


def doc_list(doc_type: Any, docs: list[Any]) -> Any:
    """`DocList[doc_type](docs)` for a class only known at run time."""
    return DocList.__class_getitem__(doc_type)(docs)


def _indexed(pipeline: ModuleType, texts: list[str], uri: str = "notes") -> Any:
    splitter = pipeline.SentenceSplitter()
    embedder = pipeline.HashingEmbedder()
    docs = doc_list(pipeline.IndexRequest, [pipeline.IndexRequest(text=t, uri=uri) for t in texts])
    return embedder.embed_sentences(splitter.split(docs, {}), {})


def test_split_sentences_splits_on_end_punctuation_and_blank_lines(pipeline: ModuleType) -> None:
    assert pipeline.split_sentences(TEXT) == [
        "GraphQL lets a client ask for exactly the fields it needs.",
        "A subscription keeps a connection open!",
        "Does gRPC carry protobuf messages?",
        "Sharding splits an index into parts.",
    ]
    assert pipeline.split_sentences("  \n ") == []
    assert pipeline.split_sentences("no full stop") == ["no full stop"]


def test_embed_text_is_deterministic_unit_length_and_similar_for_similar_text(pipeline: ModuleType) -> None:
    a = pipeline.embed_text("streaming events from the server")
    again = pipeline.embed_text("Streaming   events from the SERVER")
    near = pipeline.embed_text("the server streams events")
    far = pipeline.embed_text("cosine similarity of vectors")
    assert a.shape == (pipeline.DEFAULT_DIM,) and a.dtype == np.float32
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert np.array_equal(a, again)  # case and whitespace do not matter
    assert float(a @ near) > float(a @ far)
    assert not pipeline.embed_text("").any()
    assert pipeline.embed_text("abc", dim=16).shape == (16,)


def test_splitter_keeps_id_and_uri_and_makes_one_chunk_per_sentence(pipeline: ModuleType) -> None:
    doc = pipeline.IndexRequest(text=TEXT, uri="notes.txt")
    [out] = pipeline.SentenceSplitter().split(doc_list(pipeline.IndexRequest, [doc]), {})
    assert isinstance(out, pipeline.IndexedText)
    assert out.id == doc.id and out.uri == "notes.txt" and out.text == TEXT
    assert [c.text for c in out.chunks] == pipeline.split_sentences(TEXT)
    assert {c.uri for c in out.chunks} == {"notes.txt"}


def test_embedder_embeds_every_chunk_and_every_query(pipeline: ModuleType) -> None:
    [doc] = _indexed(pipeline, [TEXT])
    assert all(c.embedding is not None and np.isclose(np.linalg.norm(c.embedding), 1.0) for c in doc.chunks)
    queries = doc_list(pipeline.SearchQuery, [pipeline.SearchQuery(text="subscription")])
    [query] = pipeline.HashingEmbedder(dim=64).embed_queries(queries, {})
    assert query.id == queries[0].id and np.asarray(query.embedding).shape == (64,)


async def test_indexer_returns_top_k_matches_sorted_by_cosine(pipeline: ModuleType) -> None:
    indexer = pipeline.MemoryIndexer()
    await indexer.index(_indexed(pipeline, [TEXT]), {})
    assert indexer.size == 4
    query_docs = pipeline.HashingEmbedder().embed_queries(
        doc_list(pipeline.SearchQuery, [pipeline.SearchQuery(text="a subscription keeps the connection open")]), {}
    )
    [result] = await indexer.search(query_docs, {"top_k": 3})
    assert isinstance(result, pipeline.SearchResult) and result.id == query_docs[0].id
    scores = [m.scores["cosine"] for m in result.matches]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert result.matches[0].text == "A subscription keeps a connection open!"
    assert result.matches[0].uri == "notes"
    assert 0.0 < scores[0] <= 1.0 + 1e-6


async def test_indexer_with_nothing_indexed_answers_with_no_matches(pipeline: ModuleType) -> None:
    queries = pipeline.HashingEmbedder().embed_queries(
        doc_list(pipeline.SearchQuery, [pipeline.SearchQuery(text="anything")]), {}
    )
    [result] = await pipeline.MemoryIndexer().search(queries, {})
    assert len(result.matches) == 0


async def test_indexer_refuses_sentences_without_embeddings(pipeline: ModuleType) -> None:
    unembedded = pipeline.SentenceSplitter().split(
        doc_list(pipeline.IndexRequest, [pipeline.IndexRequest(text="one. two.")]), {}
    )
    with pytest.raises(ValueError, match="no embedding: run the embedder before the indexer"):
        await pipeline.MemoryIndexer().index(unembedded, {})


@pytest.mark.parametrize("top_k", [0, 101, "3", 2.5, True, None])
def test_read_top_k_refuses_bad_values_with_a_clear_message(pipeline: ModuleType, top_k: object) -> None:
    with pytest.raises(ValueError, match="top_k must be a whole number from 1 to 100"):
        pipeline.read_top_k({"top_k": top_k})


def test_read_top_k_takes_defaults_and_json_floats(pipeline: ModuleType) -> None:
    assert pipeline.read_top_k({}) == pipeline.DEFAULT_TOP_K
    assert pipeline.read_top_k({"top_k": 3.0}) == 3


async def test_two_shards_and_the_ranker_give_the_same_answer_as_one_index(pipeline: ModuleType) -> None:
    texts = [TEXT, "Cosine similarity compares directions. Vectors have a length and a direction."]
    whole, shard_a, shard_b = pipeline.MemoryIndexer(), pipeline.MemoryIndexer(), pipeline.MemoryIndexer()
    await whole.index(_indexed(pipeline, texts), {})
    await shard_a.index(_indexed(pipeline, texts[:1]), {})
    await shard_b.index(_indexed(pipeline, texts[1:]), {})
    queries = pipeline.HashingEmbedder().embed_queries(
        doc_list(pipeline.SearchQuery, [pipeline.SearchQuery(text="direction of vectors")]), {}
    )
    parameters = {"top_k": 3}
    [expected] = await whole.search(queries, parameters)
    # As the ranker may see it: one copy of the query per shard, each with that shard's matches.
    per_shard = doc_list(pipeline.SearchResult, [*await shard_a.search(queries, parameters)])
    per_shard.extend(await shard_b.search(queries, parameters))
    [ranked] = pipeline.TopKRanker().rank(per_shard, parameters)
    assert [m.text for m in ranked.matches] == [m.text for m in expected.matches]
    assert [m.scores["cosine"] for m in ranked.matches] == pytest.approx([m.scores["cosine"] for m in expected.matches])


async def test_toy_generator_yields_tokens_one_at_a_time(pipeline: ModuleType) -> None:
    generator = pipeline.ToyGenerator(delay=0.02)
    arrivals: list[float] = []
    tokens = []
    started = time.perf_counter()
    async for token in generator.generate(pipeline.Prompt(text="hello streaming world", max_tokens=12), {}):
        arrivals.append(time.perf_counter() - started)
        tokens.append(token)
    assert [t.index for t in tokens] == list(range(12))
    assert "".join(t.text for t in tokens).startswith("This is a toy generator, not a model. You wrote: hello ")
    # Each token comes when it is made, not all at the end.
    assert arrivals[0] < arrivals[-1] - 0.1


async def test_toy_generator_reply_is_complete_when_max_tokens_allows(pipeline: ModuleType) -> None:
    generator = pipeline.ToyGenerator(delay=0)
    tokens = [t.text async for t in generator.generate(pipeline.Prompt(text="a b", max_tokens=200), {})]
    assert "".join(tokens).strip().endswith("a b — and backwards: b a — that is all.")


async def test_toy_generator_refuses_a_bad_max_tokens(pipeline: ModuleType) -> None:
    generator = pipeline.ToyGenerator(delay=0)
    with pytest.raises(ValueError, match="max_tokens must be from 1 to 200"):
        async for _ in generator.generate(pipeline.Prompt(text="x", max_tokens=0), {}):
            pass
