"""Executors the graph tests run in real worker processes (imported there as `tests.graph.sample_executors`)."""

from __future__ import annotations

import os
import time
from typing import Any

from flowql import DocumentArray, Executor, requests


class Upper(Executor):
    """Upper-cases text and appends `suffix`."""

    def __init__(self, suffix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suffix = suffix

    @requests
    def upper(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.text = (doc.text or "").upper() + self.suffix


class Tagger(Executor):
    """Adds its name (or `tag`) to each document's tags['seen'] list and records its shard and pid."""

    def __init__(self, tag: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag or self.runtime_args.name

    @requests
    def tag_docs(self, docs: DocumentArray, **kwargs: Any) -> None:
        for doc in docs:
            doc.tags["seen"] = [*doc.tags.get("seen", []), self.tag]
            doc.tags[f"shard_{self.tag}"] = self.runtime_args.shard_id
            doc.tags[f"pid_{self.tag}"] = os.getpid()


class Counter(Executor):
    """Returns a dict (collected under parameters['__results__']) and echoes parameters into tags."""

    @requests
    def count(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for doc in docs:
            doc.tags["param"] = parameters.get("value")
        return {"count": len(docs), "pid": os.getpid()}


class Fails(Executor):
    """Raises on /fail; passes other endpoints through untouched."""

    @requests(on="/fail")
    def fail(self, docs: DocumentArray, **kwargs: Any) -> None:
        raise ValueError("this executor always fails on /fail")


class Slow(Executor):
    """Sleeps `seconds` per request (simulated work), then tags the docs with its pid."""

    @requests
    def slow(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        time.sleep(float(parameters.get("seconds", 0)))
        for doc in docs:
            doc.tags["pid"] = os.getpid()


class BrokenInit(Executor):
    """Cannot be constructed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        raise RuntimeError("BrokenInit cannot start: missing model file")


class A(Executor):
    """The seeds' fan-out branch A."""

    @requests
    def a(self, docs: DocumentArray, **kwargs: Any) -> None:
        for index, doc in enumerate(docs):
            doc.text = f"world {index}"


class B(Executor):
    """The seeds' fan-out branch B."""

    @requests
    def b(self, docs: DocumentArray, **kwargs: Any) -> None:
        for index, doc in enumerate(docs):
            doc.tags["b"] = f"hello {index}"


class C(Executor):
    """The seeds' join: reports what it received, in each doc's tags."""

    @requests
    def c(self, docs: DocumentArray, docs_matrix: list[DocumentArray] | None = None, **kwargs: Any) -> DocumentArray:
        for doc in docs:
            doc.tags["received"] = len(docs)
            doc.tags["matrix"] = [len(branch) for branch in docs_matrix or []]
        return docs


class Recorder(Executor):
    """Appends `<pid> <doc ids>` to the file `path` for every request, before doing `seconds` of work."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path

    @requests
    def record(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        with open(self.path, "a") as file:
            file.write(f"{os.getpid()} {' '.join(str(doc.id) for doc in docs)}\n")
        time.sleep(float(parameters.get("seconds", 0)))


class EnvReader(Executor):
    """Copies the environment variables named in parameters['names'] into each document's tags."""

    @requests
    def read(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        for doc in docs:
            for name in parameters.get("names", []):
                doc.tags[name] = os.environ.get(name)


class SlowInit(Executor):
    """Takes `seconds` to construct (a model that loads slowly)."""

    def __init__(self, seconds: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        time.sleep(seconds)


class SleepByTag(Executor):
    """Sleeps tags['sleep'] seconds for the first document of each request (answers come back out of order)."""

    @requests
    def sleep(self, docs: DocumentArray, **kwargs: Any) -> None:
        if len(docs):
            time.sleep(float(docs[0].tags.get("sleep", 0)))
