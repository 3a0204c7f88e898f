"""Plain HTTP routes of the gateway: `POST /post`, `GET /status`, `GET /dry_run`.

`POST /post` (Content-Type: application/json) is the client's `protocol='http'`. One call is one
request batch (the client batches by `request_size`).

Request body::

    {"data": [{"text": "hello"}, ...] | {"text": "one"} | null,   # documents of the endpoint's input type
     "execEndpoint": "/index",          # default "/"
     "parameters": {"top_k": 3},        # optional JSON object
     "targetExecutor": "",              # optional regex over executor names
     "requestId": "..."}                # optional; a fresh one otherwise

Documents are JSON objects with the fields of the endpoint's input document type (`Document`
when it declares none): tensors (embedding, tensor) as lists (nested for several dimensions),
`blob` as base64 text, nested documents (matches, chunks) as objects. A document without `id`
gets a fresh one.

Response (200, also when an executor failed: the status says so, as on gRPC)::

    {"header": {"requestId": "...", "execEndpoint": "/index", "targetExecutor": "",
                "status": {"code": 0 | 1,            # 0 SUCCESS, 1 ERROR
                           "description": "ValueError: ...",
                           "exception": {"executor": "...", "exceptionType": "...",
                                         "message": "...", "traceback": "..."} | null}},
     "parameters": {..., "__results__": {...}},
     "data": [documents, same encoding as above],
     "routes": [{"executor": "...", "startTimeNs": 0, "endTimeNs": 0, "shard": 0,
                 "replica": 0, "address": "host:port"}]}

A body that is not JSON, or documents that do not fit the endpoint's type: 400 with
`{"errors": [{"message": "..."}]}`. Larger than `max_body_size`: 413. Not JSON content type: 415.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import flowql
from flowql.app.doc_json import docs_from_json, jsonable
from flowql.app.doc_schema import DocSchema, default_document_schema
from flowql.app.doc_wire import InputError, decode_dicts, encode_dicts, prepare_docs
from flowql.app.metrics import GatewayMetrics
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import EndpointView, StreamerAPI, read_executors, served_view
from flowql.proto.flowql_pb2 import DataRequest, Status
from flowql.request import get_parameters, new_request

__all__ = ["HttpRoutes", "response_json"]


def _bad_request(message: str) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=400)


def response_json(response: DataRequest) -> dict[str, Any]:
    """A processed DataRequest as the JSON body of `POST /post` (see the module docstring)."""
    header = response.header
    status = response.status
    exception = None
    if status.code == Status.ERROR:
        detail = status.exception
        exception = {
            "executor": detail.executor,
            "exceptionType": detail.exception_type,
            "message": detail.message,
            "traceback": detail.traceback,
        }
    return {
        "header": {
            "requestId": header.request_id,
            "execEndpoint": header.exec_endpoint,
            "targetExecutor": header.target_executor,
            "status": {"code": int(status.code), "description": status.description, "exception": exception},
        },
        "parameters": get_parameters(response),
        "data": jsonable(decode_dicts(response.docs, flat_tensors=False)),
        "routes": [
            {
                "executor": route.executor,
                "startTimeNs": route.start_time_ns,
                "endTimeNs": route.end_time_ns,
                "shard": route.shard,
                "replica": route.replica,
                "address": route.address,
            }
            for route in response.routes
        ],
    }


class HttpRoutes:
    """The handlers, bound to one app's streamer, settings and endpoint types."""

    def __init__(self, streamer: StreamerAPI, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self.streamer = streamer
        self.settings = settings
        self.metrics = metrics
        self.generic = default_document_schema()
        self.input_schemas: dict[str, DocSchema] = {}

    def use_endpoints(self, views: list[EndpointView]) -> None:
        """Learn each typed endpoint's input type (called once the Flow's endpoints are known)."""
        self.input_schemas = {view.endpoint: view.input_doc_schema for view in map(served_view, views) if view.typed}

    async def post(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            return _bad_request(f"the body is not valid JSON: {exc}")
        if not isinstance(body, dict):
            return _bad_request("the body must be a JSON object with 'data', 'execEndpoint', 'parameters'")
        endpoint = body.get("execEndpoint", body.get("exec_endpoint")) or "/"
        parameters = body.get("parameters")
        target = body.get("targetExecutor", body.get("target_executor")) or ""
        if not isinstance(endpoint, str) or not isinstance(target, str):
            return _bad_request("'execEndpoint' and 'targetExecutor' must be strings")
        if parameters is not None and not isinstance(parameters, dict):
            return _bad_request("'parameters' must be a JSON object")
        request_id = body.get("requestId")
        if request_id is not None and not isinstance(request_id, str):
            return _bad_request("'requestId' must be a string")
        schema = self.input_schemas.get(endpoint, self.generic)
        try:
            docs = prepare_docs(docs_from_json(body.get("data"), schema), schema)
            encoded = encode_dicts(docs, schema)
        except InputError as exc:
            return _bad_request(str(exc))
        data_request = new_request(
            endpoint,
            docs=encoded,
            parameters=parameters,
            target_executor=target,
            request_id=request_id or None,
        )
        response = await self.streamer.process(data_request)
        self.metrics.observe_response(response)
        return JSONResponse(response_json(response))

    async def status(self, request: Request) -> Response:
        executors = await read_executors(self.streamer)
        return JSONResponse(
            {
                "name": self.settings.name,
                "title": self.settings.title,
                "version": flowql.__version__,
                "protocols": list(self.settings.protocols),
                "executors": [
                    {
                        "name": view.name,
                        "health": view.health,
                        "endpoints": view.endpoints,
                        "replicas": view.replicas,
                        "shards": view.shards,
                        "needs": view.needs,
                    }
                    for view in executors
                ],
            }
        )

    async def dry_run(self, request: Request) -> Response:
        reachable = await self.streamer.dry_run()
        down = sorted(name for name, ok in reachable.items() if not ok)
        body = {
            "code": 1 if down else 0,
            "description": f"unreachable executors: {', '.join(down)}" if down else "every executor is reachable",
            "executors": reachable,
        }
        return JSONResponse(body, status_code=503 if down else 200)
