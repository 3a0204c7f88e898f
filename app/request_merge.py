"""Combining several DataRequests of one request into one: joins, shard reductions, several ends.

Only documents are merged by id (`docs_merge`); parameters merge their `__results__` per executor
(later values win elsewhere), and routes are concatenated without repeating the hops the inputs
share (everything before their fan-out).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowql.proto.flowql_pb2 import DataRequest, Route, Status
from flowql.request import RESULTS_KEY

from .docs_merge import merge_doc_lists, parse_docs, sort_matches

__all__ = ["join_branches", "merge_requests", "reduce_shards", "first_error"]


def first_error(requests: Sequence[DataRequest]) -> DataRequest | None:
    """The first request (in the given order) whose status is an error."""
    for request in requests:
        if request.status.code == Status.ERROR:
            return request
    return None


def join_branches(branches: Sequence[tuple[str, DataRequest]], *, no_reduce: bool) -> DataRequest:
    """The request a joining executor receives: branches merged by id (or concatenated with
    `no_reduce`) in `needs` order, and each branch's documents kept in `branches`."""
    requests = [request for _, request in branches]
    if no_reduce:
        # A DocListProto is one repeated field: serialized lists concatenate into one list.
        docs = b"".join(request.docs for request in requests)
    else:
        docs = _merged_docs(requests, sort=False)
    joined = _combine(requests, docs)
    for name, request in branches:
        joined.branches.add(executor=name, docs=request.docs)
    return joined


def merge_requests(requests: Sequence[DataRequest]) -> DataRequest:
    """Several end executors' outputs as one response, documents merged by id."""
    if len(requests) == 1:
        return requests[0]
    return _combine(requests, _merged_docs(requests, sort=False))


def reduce_shards(responses: Sequence[DataRequest]) -> DataRequest:
    """The answers of all shards (polling ALL) as one: documents merged by id (disjoint shards
    concatenate), matches concatenated and kept sorted by their first score."""
    if len(responses) == 1:
        return responses[0]
    return _combine(responses, _merged_docs(responses, sort=True))


def _merged_docs(requests: Sequence[DataRequest], *, sort: bool) -> bytes:
    first = requests[0].docs
    if all(request.docs == first for request in requests[1:]):
        # Identical branches (e.g. executors that passed the documents through) merge to themselves.
        return first
    lists = [parse_docs(request.docs) for request in requests]
    if all(docs == lists[0] for docs in lists[1:]):
        # The same documents, serialized in another order: executor processes write a document's
        # field map in their own hash order, so byte comparison misses branches that changed
        # nothing; comparing the parsed lists (in C) costs far less than merging them.
        return first
    merged = merge_doc_lists(lists)
    if sort:
        sort_matches(merged, lists)
    data: bytes = merged.SerializeToString()
    return data


def _combine(requests: Sequence[DataRequest], docs: bytes) -> DataRequest:
    base = requests[0]
    combined = DataRequest(docs=docs, stream_index=base.stream_index)
    combined.header.CopyFrom(base.header)
    combined.parameters = merge_parameters([request.parameters for request in requests])
    combined.routes.extend(merge_routes(requests))
    return combined


def merge_parameters(all_parameters: Sequence[bytes]) -> bytes:
    """Parameters (JSON bytes) of several branches as one: `__results__` entries accumulate."""
    first = all_parameters[0]
    if all(parameters == first for parameters in all_parameters[1:]):
        return first
    merged: dict[str, Any] = {}
    for raw in all_parameters:
        if not raw:
            continue
        for key, value in json.loads(raw).items():
            if key == RESULTS_KEY and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
    return json.dumps(merged).encode() if merged else b""


def merge_routes(requests: Sequence[DataRequest]) -> list[Route]:
    """Every hop of every input once, in order: the first input's routes, then the others' new ones."""
    routes: list[Route] = []
    seen: set[bytes] = set()
    for request in requests:
        for route in request.routes:
            key = route.SerializeToString()
            if key not in seen:
                seen.add(key)
                routes.append(route)
    return routes
