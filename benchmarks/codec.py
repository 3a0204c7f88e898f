"""Encode/decode cost per document: flowql.codec beside docarray's own protobuf path.

Run: .venv/bin/python benchmarks/codec.py [--quick] [--repeats N] [--sizes 100 1000] [--wall]

Workloads, built before any timing:
- `Document`: the default flowql document with a 100-character text (and nothing else set);
- `UserDoc`: a user BaseDoc schema: a 100-character text, an int, a float, an Optional
  NdArray embedding (float32[16]) and a dict of tags.

For each workload and batch size it times `encode_docs` / `decode_docs` and docarray's
`DocList.to_protobuf().SerializeToString()` / `DocList[T].from_protobuf(DocListProto.FromString(b))`,
reports the median over the repeats in µs per document, and checks flowql's figures against the
15 µs bounds (exit status 1 if one is missed). Each repeat runs the call as many times as fits
in --min-time seconds. Times are this process's CPU time unless --wall is given.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic.warnings import PydanticDeprecatedSince20

warnings.filterwarnings("ignore", category=PydanticDeprecatedSince20)  # docarray's own, at import

from docarray import BaseDoc, DocList  # noqa: E402
from docarray.proto import DocListProto  # noqa: E402
from docarray.typing import NdArray  # noqa: E402

from flowql.codec import decode_docs, encode_docs  # noqa: E402
from flowql.documents import Document  # noqa: E402

BOUND_US = 15.0
TEXT = ("lorem ipsum dolor sit amet " * 4)[:100]


class UserDoc(BaseDoc):
    """A user schema of the kind an executor declares."""

    text: str
    count: int = 0
    weight: float = 0.0
    embedding: NdArray | None = None  # type: ignore[type-arg]
    tags: dict[str, Any] = {}


@dataclass
class Workload:
    name: str
    doc_type: type[BaseDoc]
    docs: DocList[Any]
    data: bytes


def build_workloads(size: int) -> list[Workload]:
    rng = np.random.default_rng(0)
    documents = DocList[Document]([Document(text=TEXT) for _ in range(size)])
    user_docs = DocList[UserDoc](
        [
            UserDoc(
                text=TEXT,
                count=index,
                weight=index / 3,
                embedding=rng.random(16, dtype=np.float32),
                tags={"source": "bench", "rank": index},
            )
            for index in range(size)
        ]
    )
    workloads = [
        Workload("Document", Document, documents, encode_docs(documents)),
        Workload("UserDoc", UserDoc, user_docs, encode_docs(user_docs)),
    ]
    for workload in workloads:  # the figures mean nothing if the round trip is wrong
        decoded = decode_docs(workload.data, workload.doc_type)
        assert list(decoded) == list(workload.docs), f"{workload.name}: round trip changed the documents"
        assert [doc.id for doc in decoded] == [doc.id for doc in workload.docs]
    return workloads


def timed_calls(workload: Workload) -> dict[str, Callable[[], object]]:
    """What is timed: flowql's codec and docarray's own protobuf path over the same documents."""
    docs, data, doc_type = workload.docs, workload.data, workload.doc_type
    list_type: Any = DocList[doc_type]  # type: ignore[valid-type]
    return {
        "encode": lambda: encode_docs(docs),
        "decode": lambda: decode_docs(data, doc_type),
        "docarray encode": lambda: docs.to_protobuf().SerializeToString(),
        "docarray decode": lambda: list_type.from_protobuf(DocListProto.FromString(data)),
    }


def per_doc_us(
    call: Callable[[], object], size: int, repeats: int, min_time: float, clock: Callable[[], float]
) -> float:
    """Median over `repeats` of the µs per document of `call` (which handles `size` documents)."""
    start = clock()
    call()
    loops = max(1, int(min_time / max(clock() - start, 1e-6)))
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = clock()
        for _ in range(loops):
            call()
        samples.append((clock() - start) / loops / size * 1e6)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run: fewer repeats, shorter samples")
    parser.add_argument("--repeats", type=int, default=None, help="samples per figure (default 7, quick 3)")
    parser.add_argument("--min-time", type=float, default=None, help="seconds per sample (default 0.2, quick 0.05)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="batch sizes (default 100 1000)")
    parser.add_argument(
        "--wall", action="store_true", help="time with the wall clock instead of this process's CPU time"
    )
    args = parser.parse_args(argv)
    # CPU time by default: on a shared machine the wall clock also counts the time other
    # processes hold the cores; the codec is single-threaded, so on an idle machine they agree.
    clock = time.perf_counter if args.wall else time.process_time
    repeats = args.repeats or (3 if args.quick else 7)
    min_time = args.min_time or (0.05 if args.quick else 0.2)

    header = f"{'workload':<9} {'docs':>5} | {'encode':>7} {'docarray':>9} | {'decode':>7} {'docarray':>9} | bound"
    print(
        f"µs per document ({'wall clock' if args.wall else 'CPU time'}), median of {repeats} samples "
        f"(bound: {BOUND_US:g} µs for flowql encode and decode)"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for size in args.sizes:
        for workload in build_workloads(size):
            calls = timed_calls(workload)
            encode = per_doc_us(calls["encode"], size, repeats, min_time, clock)
            decode = per_doc_us(calls["decode"], size, repeats, min_time, clock)
            theirs_encode = per_doc_us(calls["docarray encode"], size, repeats, min_time, clock)
            theirs_decode = per_doc_us(calls["docarray decode"], size, max(3, repeats // 2), min_time, clock)
            ok = encode <= BOUND_US and decode <= BOUND_US
            failed |= not ok
            print(
                f"{workload.name:<9} {size:>5} | {encode:>7.2f} {theirs_encode:>9.2f} | "
                f"{decode:>7.2f} {theirs_decode:>9.2f} | {'pass' if ok else 'FAIL'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
