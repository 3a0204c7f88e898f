"""An in-process streamer for the app's tests: real executor-like Python callables, no network.

It implements the streamer API the app uses (`process`, `stream`, `endpoints`, `dry_run`,
`executors`, `topology`) over a chain of `FakeExecutor`s whose handlers take and return real
docarray documents, decoded and encoded with flowql's codec exactly as an executor worker does.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from docarray import BaseDoc, DocList

from flowql.codec import decode_docs, encode_docs
from flowql.documents import Document
from flowql.proto.flowql_pb2 import DataRequest
from flowql.request import RESULTS_KEY, add_route, get_parameters, set_error, set_parameters
from flowql.topology import ExecutorNode, Topology


@dataclass
class FakeEndpoint:
    """One handler: `handler(docs, parameters)` (or, streaming, `handler(doc, parameters)` yielding docs)."""

    endpoint: str
    handler: Callable[..., Any]
    input_type: type[BaseDoc] = Document
    output_type: type[BaseDoc] = Document
    streaming: bool = False
    description: str = ""


@dataclass
class FakeExecutor:
    name: str
    endpoints: list[FakeEndpoint]
    has_default: bool = False
    calls: int = 0
    started: list[str] = field(default_factory=list)

    def handler_for(self, endpoint: str) -> FakeEndpoint | None:
        for spec in self.endpoints:
            if spec.endpoint == endpoint:
                return spec
        return None


class FakeStreamer:
    """A chain of executors, each request walking them in order."""

    def __init__(self, executors: list[FakeExecutor]) -> None:
        self.chain = executors
        needs = ["gateway"] + [ex.name for ex in executors[:-1]]
        self.topology = Topology(
            nodes=[
                ExecutorNode(name=ex.name, needs=[need], shards=[["in-process"]])
                for ex, need in zip(executors, needs, strict=True)
            ],
            end=[executors[-1].name] if executors else [],
        )
        self.process_calls = 0

    async def process(self, request: DataRequest) -> DataRequest:
        self.process_calls += 1
        response = DataRequest()
        response.CopyFrom(request)
        endpoint = request.header.exec_endpoint
        for executor in self.chain:
            spec = executor.handler_for(endpoint)
            start = time.time_ns()
            executor.calls += 1
            executor.started.append(request.header.request_id)
            if spec is not None:
                try:
                    docs = decode_docs(response.docs, spec.input_type)
                    parameters = get_parameters(response)
                    if spec.streaming:
                        out: Any = DocList[spec.output_type]()  # type: ignore[name-defined]
                        for doc in docs:
                            async for item in _iterate(spec.handler(doc, parameters)):
                                out.append(item)
                    else:
                        out = spec.handler(docs, parameters)
                        if inspect.isawaitable(out):
                            out = await out
                    if isinstance(out, dict):  # a dict return goes to parameters, as an executor does
                        parameters.setdefault(RESULTS_KEY, {})[executor.name] = out
                        set_parameters(response, parameters)
                    elif out is not None:
                        docs = out
                    response.docs = encode_docs(list(docs))
                except Exception as exc:  # an executor's failure travels in the status, as on the wire
                    set_error(response, executor.name, exc)
                    add_route(response, executor.name, start)
                    return response
            add_route(response, executor.name, start)
        return response

    async def stream(self, request: DataRequest) -> AsyncIterator[DataRequest]:
        endpoint = request.header.exec_endpoint
        for executor in self.chain:
            spec = executor.handler_for(endpoint)
            if spec is None or not spec.streaming:
                continue
            executor.calls += 1
            index = 0
            try:
                for doc in decode_docs(request.docs, spec.input_type):
                    async for item in _iterate(spec.handler(doc, get_parameters(request))):
                        response = DataRequest()
                        response.header.CopyFrom(request.header)
                        response.docs = encode_docs([item])
                        response.stream_index = index
                        index += 1
                        yield response
            except Exception as exc:
                response = DataRequest()
                response.header.CopyFrom(request.header)
                set_error(response, executor.name, exc)
                yield response
            return
        yield await self.process(request)

    async def endpoints(self) -> list[dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for executor in self.chain:
            for spec in executor.endpoints:
                record = records.setdefault(
                    spec.endpoint,
                    {
                        "endpoint": spec.endpoint,
                        "executors": [],
                        "input_schema_name": spec.input_type.__name__,
                        "input_schema": json.dumps(spec.input_type.model_json_schema()),
                        "output_schema_name": spec.output_type.__name__,
                        "output_schema": json.dumps(spec.output_type.model_json_schema()),
                        "streaming": spec.streaming,
                        "description": spec.description,
                    },
                )
                record["executors"].append(executor.name)
        return list(records.values())

    async def dry_run(self) -> dict[str, bool]:
        return {executor.name: True for executor in self.chain}

    def executors(self) -> list[dict[str, Any]]:
        return [
            {
                "name": executor.name,
                "endpoints": [spec.endpoint for spec in executor.endpoints],
                "replicas": 1,
                "shards": 1,
                "polling": {"*": "ANY"},
                "needs": self.topology.node(executor.name).needs,
                "health": True,
                "has_default": executor.has_default,
            }
            for executor in self.chain
        ]


async def _iterate(produced: Any) -> AsyncIterator[Any]:
    if hasattr(produced, "__aiter__"):
        async for item in produced:
            yield item
    else:
        for item in produced:
            yield item
            await asyncio.sleep(0)
