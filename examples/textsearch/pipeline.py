"""The example application's executors: split text into sentences, embed, index, search, and a toy generator.

Everything here does real work without downloading anything:

- `SentenceSplitter` turns each text into sentence chunks (`/index`).
- `HashingEmbedder` embeds text by hashing character n-grams into a fixed-size, L2-normalised numpy
  vector (`/index` embeds the chunks, `/search` the query).
- `MemoryIndexer` keeps the sentence vectors in memory; the Flow runs it with two shards, each holding
  the part of the index it was sent (`/index` goes to one shard), and asks both on `/search`.
- `TopKRanker` sorts the matches both shards found by cosine score and keeps `parameters['top_k']`.
- `ToyGenerator` streams a reply token by token (`/generate`). It is NOT a language model: it rewrites
  the prompt with a fixed template so the streaming can be watched.

The document schemas are typed docarray documents, so the gateway's GraphQL schema shows them as real
types with these descriptions. Their field names follow `flowql.Document` (text, uri, embedding,
scores, chunks, matches) so any hop that reads them as plain Documents keeps every field.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any, cast

import numpy as np
from docarray import BaseDoc, DocList
from docarray.typing import NdArray
from pydantic import Field

from flowql import Executor, requests

DEFAULT_DIM = 256
DEFAULT_TOP_K = 5
MAX_TOP_K = 100

# A sentence ends at ., ! or ? followed by whitespace, or at a blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_WHITESPACE = re.compile(r"\s+")


# --- document schemas -------------------------------------------------------------------------


class IndexRequest(BaseDoc):
    """A text to add to the search index."""

    text: str = Field(description="The text to index; it is split into sentences.")
    uri: str | None = Field(default=None, description="Where the text comes from (a title, a URL or a file name).")


class Sentence(BaseDoc):
    """One sentence of an indexed text."""

    text: str = Field(description="The sentence.")
    uri: str | None = Field(default=None, description="Where the sentence's text comes from.")
    embedding: NdArray | None = Field(  # type: ignore[type-arg]
        default=None, description="The sentence's hashed character n-gram vector (L2-normalised)."
    )


class IndexedText(BaseDoc):
    """A text after indexing, with the sentences it was split into."""

    text: str = Field(description="The text that was indexed.")
    uri: str | None = Field(default=None, description="Where the text comes from.")
    chunks: DocList[Sentence] = Field(
        default_factory=lambda: DocList[Sentence](), description="The sentences the text was split into."
    )


class SearchQuery(BaseDoc):
    """A search query."""

    text: str = Field(description="What to look for.")


class EmbeddedQuery(BaseDoc):
    """A search query with its vector (between the embedder and the indexer)."""

    text: str = Field(description="What to look for.")
    embedding: NdArray | None = Field(default=None, description="The query's vector.")  # type: ignore[type-arg]


class Match(BaseDoc):
    """An indexed sentence that matched a query."""

    text: str = Field(description="The matching sentence.")
    uri: str | None = Field(default=None, description="Where the sentence comes from.")
    scores: dict[str, float] = Field(
        default_factory=dict, description="Similarity to the query by metric name: {'cosine': -1.0 .. 1.0}."
    )


class SearchResult(BaseDoc):
    """A query with its best matches, best first."""

    text: str = Field(description="The query.")
    matches: DocList[Match] = Field(
        default_factory=lambda: DocList[Match](), description="The best matching sentences, highest cosine first."
    )


class Prompt(BaseDoc):
    """A prompt for the toy generator."""

    text: str = Field(description="The prompt.")
    max_tokens: int = Field(default=40, description="Stop after this many tokens (1 to 200).")


class Token(BaseDoc):
    """One token of a generated reply, streamed as soon as it is produced."""

    text: str = Field(description="The token's text, including its trailing space.")
    index: int = Field(description="Position of the token in the reply, from 0.")


# --- the work itself, as plain functions --------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with whitespace collapsed; empty pieces are dropped."""
    pieces = (_WHITESPACE.sub(" ", piece).strip() for piece in _SENTENCE_END.split(text))
    return [piece for piece in pieces if piece]


def embed_text(text: str, dim: int = DEFAULT_DIM, ngram: int = 3) -> np.ndarray:
    """Hash the character n-grams of `text` into a `dim`-sized float32 vector with unit L2 norm.

    crc32 (not Python's `hash`, which changes per process) keeps vectors identical across the
    shards' processes and across runs. Half of the hash picks the bucket, one bit the sign, so
    collisions tend to cancel rather than pile up. Text with no n-grams gives the zero vector.
    """
    vector = np.zeros(dim, dtype=np.float32)
    padded = f" {_WHITESPACE.sub(' ', text.lower()).strip()} "
    for start in range(max(len(padded) - ngram + 1, 0)):
        digest = zlib.crc32(padded[start : start + ngram].encode("utf-8"))
        vector[digest % dim] += 1.0 if (digest >> 31) & 1 else -1.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def read_top_k(parameters: dict[str, Any]) -> int:
    """`parameters['top_k']`, checked: a whole number from 1 to MAX_TOP_K (default DEFAULT_TOP_K)."""
    value = parameters.get("top_k", DEFAULT_TOP_K)
    # JSON numbers may arrive as 3.0; bool is an int subclass but never a sensible top_k.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TOP_K:
        raise ValueError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, got {value!r}")
    return value


def cosine_top_k(query: np.ndarray, matrix: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Rows of `matrix` (unit vectors) most similar to `query`: (row, cosine) pairs, best first."""
    if matrix.shape[0] == 0:
        return []
    scores = matrix @ query
    k = min(k, scores.shape[0])
    best = np.argpartition(-scores, k - 1)[:k]
    order = best[np.argsort(-scores[best], kind="stable")]
    return [(int(row), float(scores[row])) for row in order]


def toy_reply(prompt: str) -> list[str]:
    """The toy generator's reply to `prompt`, as tokens (words with their trailing space)."""
    words = _WHITESPACE.sub(" ", prompt).strip().split(" ") if prompt.strip() else ["nothing"]
    reply = ["This", "is", "a", "toy", "generator,", "not", "a", "model.", "You", "wrote:", *words]
    reply += ["—", "and", "backwards:", *reversed(words), "—", "that", "is", "all."]
    return [word + " " for word in reply]


# --- executors --------------------------------------------------------------------------------


class SentenceSplitter(Executor):
    """Splits each text into sentences, kept as the document's chunks."""

    @requests(on="/index")
    def split(self, docs: DocList[IndexRequest], parameters: dict[str, Any], **kwargs: Any) -> DocList[IndexedText]:
        """Index texts: each is split into sentences here, then embedded and stored in one index shard."""
        out = DocList[IndexedText]()
        for doc in docs:
            sentences = DocList[Sentence]([Sentence(text=s, uri=doc.uri) for s in split_sentences(doc.text)])
            out.append(IndexedText(id=doc.id, text=doc.text, uri=doc.uri, chunks=sentences))
        return out


class HashingEmbedder(Executor):
    """Embeds text by hashing character n-grams into an L2-normalised vector: fast, offline, deterministic."""

    def __init__(self, dim: int = DEFAULT_DIM, ngram: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dim = dim
        self.ngram = ngram

    @requests(on="/index")
    def embed_sentences(
        self, docs: DocList[IndexedText], parameters: dict[str, Any], **kwargs: Any
    ) -> DocList[IndexedText]:
        """Give every sentence (chunk) of each text its vector."""
        for doc in docs:
            for chunk in doc.chunks:
                chunk.embedding = cast(Any, embed_text(chunk.text, self.dim, self.ngram))
        return docs

    @requests(on="/search")
    def embed_queries(
        self, docs: DocList[SearchQuery], parameters: dict[str, Any], **kwargs: Any
    ) -> DocList[EmbeddedQuery]:
        """Search the indexed sentences: each query is embedded here, then every index shard is asked and
        the best `top_k` matches (a parameter, default 5) come back, highest cosine similarity first."""
        return DocList[EmbeddedQuery](
            [EmbeddedQuery(id=d.id, text=d.text, embedding=embed_text(d.text, self.dim, self.ngram)) for d in docs]
        )


class MemoryIndexer(Executor):
    """Keeps sentence vectors in memory and answers queries with the most similar sentences (cosine)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sentences: list[Sentence] = []
        self._vectors: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    # Handlers are async so that they run one at a time on the worker's event loop: the index is
    # never read while another request is adding to it.

    @requests(on="/index")
    async def index(
        self, docs: DocList[IndexedText], parameters: dict[str, Any], **kwargs: Any
    ) -> DocList[IndexedText]:
        """Add every embedded sentence of each text to this shard's index."""
        for doc in docs:
            for chunk in doc.chunks:
                if chunk.embedding is None:
                    raise ValueError(f"sentence {chunk.text!r} has no embedding: run the embedder before the indexer")
                self._sentences.append(Sentence(id=chunk.id, text=chunk.text, uri=chunk.uri))
                self._vectors.append(np.asarray(chunk.embedding, dtype=np.float32))
        self._matrix = None
        return docs

    @requests(on="/search")
    async def search(
        self, docs: DocList[EmbeddedQuery], parameters: dict[str, Any], **kwargs: Any
    ) -> DocList[SearchResult]:
        """Find this shard's `top_k` most similar sentences for each query."""
        top_k = read_top_k(parameters)
        matrix = self._index_matrix()
        results = DocList[SearchResult]()
        for doc in docs:
            if doc.embedding is None:
                raise ValueError(f"query {doc.text!r} has no embedding: run the embedder before the indexer")
            found = cosine_top_k(np.asarray(doc.embedding, dtype=np.float32), matrix, top_k)
            matches = DocList[Match]()
            for row, score in found:
                sentence = self._sentences[row]
                matches.append(Match(id=sentence.id, text=sentence.text, uri=sentence.uri, scores={"cosine": score}))
            results.append(SearchResult(id=doc.id, text=doc.text, matches=matches))
        return results

    @property
    def size(self) -> int:
        """How many sentences this shard holds."""
        return len(self._sentences)

    def _index_matrix(self) -> np.ndarray:
        # Stack lazily: indexing appends cheaply, the first search after it pays for one np.stack.
        if self._matrix is None:
            self._matrix = np.stack(self._vectors) if self._vectors else np.zeros((0, 1), dtype=np.float32)
        return self._matrix


class TopKRanker(Executor):
    """Merges the matches the index shards found for each query, best first, and keeps `top_k`."""

    @requests(on="/search")
    def rank(self, docs: DocList[SearchResult], parameters: dict[str, Any], **kwargs: Any) -> DocList[SearchResult]:
        """Sort each query's matches by cosine score and keep the best `top_k`."""
        top_k = read_top_k(parameters)
        # The gateway merges the shards' answers by query id; should a query still come back once
        # per shard, fold the copies together here so each query is answered once.
        merged: dict[str, SearchResult] = {}
        for doc in docs:
            key = str(doc.id)
            if key in merged:
                merged[key].matches.extend(doc.matches)
            else:
                merged[key] = doc
        out = DocList[SearchResult]()
        for doc in merged.values():
            unique = {str(m.id): m for m in doc.matches}.values()
            ranked = sorted(unique, key=lambda m: m.scores.get("cosine", float("-inf")), reverse=True)
            out.append(SearchResult(id=doc.id, text=doc.text, matches=DocList[Match](ranked[:top_k])))
        return out


class ToyGenerator(Executor):
    """A TOY text generator, not a language model: it streams a fixed-template reply to the prompt.

    It exists to show streaming: each token is yielded after `delay` seconds, and the gateway sends
    it on (a GraphQL subscription event) as soon as it is yielded.
    """

    def __init__(self, delay: float = 0.08, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay

    @requests(on="/generate")
    async def generate(self, doc: Prompt, parameters: dict[str, Any], **kwargs: Any) -> AsyncIterator[Token]:
        """Toy generator (not a model): streams a template reply to the prompt, one token at a time."""
        if not 1 <= doc.max_tokens <= 200:
            raise ValueError(f"max_tokens must be from 1 to 200, got {doc.max_tokens}")
        for index, text in enumerate(toy_reply(doc.text)[: doc.max_tokens]):
            await asyncio.sleep(self.delay)
            yield Token(text=text, index=index)
