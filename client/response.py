"""`Response`: one answered request as the caller sees it (docs, parameters, routes, status)."""

from __future__ import annotations

from typing import Any

from docarray import BaseDoc, DocList

from flowql._exceptions import ExecutorError
from flowql.client.json_docs import doc_from_json
from flowql.codec import decode_docs
from flowql.documents import Document, DocumentArray
from flowql.proto.flowql_pb2 import DataRequest, Header, Route, Status
from flowql.request import error_of, get_parameters

__all__ = ["Response"]


class Response:
    """The gateway's answer to one request (one batch of `request_size` documents).

    Callbacks receive it and `post(..., return_responses=True)` returns a list of them:

    >>> def on_done(response):
    ...     print(response.docs.texts, response.parameters.get('__results__'))

    The documents are decoded on first access to `.docs` (and kept, so edits stick); `.proto`
    is the `DataRequest` protobuf message itself.
    """

    __slots__ = ("proto", "_doc_type", "_docs", "_json_docs", "_parameters")

    def __init__(
        self,
        proto: DataRequest,
        *,
        doc_type: type[BaseDoc] = Document,
        json_docs: list[dict[str, Any]] | None = None,
    ) -> None:
        self.proto = proto
        self._doc_type = doc_type
        self._docs: DocList[Any] | None = None
        # The HTTP transport hands documents over as parsed JSON, not DocListProto bytes.
        self._json_docs = json_docs
        self._parameters: dict[str, Any] | None = None

    @property
    def docs(self) -> DocList[Any]:
        """The result documents: a `DocumentArray` for `Document`, else a `DocList` of the requested type."""
        if self._docs is None:
            if self._json_docs is not None:
                items = [doc_from_json(item, self._doc_type) for item in self._json_docs]
                if self._doc_type is Document:
                    self._docs = DocumentArray(items)  # type: ignore[arg-type]
                else:
                    self._docs = DocList[self._doc_type](items)  # type: ignore[name-defined]
                self._json_docs = None
            else:
                self._docs = decode_docs(self.proto.docs, self._doc_type)
        return self._docs

    @property
    def data(self) -> Response:
        """The response itself, so the seeds' `response.data.docs` reads the same as `response.docs`."""
        return self

    @property
    def parameters(self) -> dict[str, Any]:
        """The request's parameters, with executors' dict results under `'__results__'` (parsed once)."""
        if self._parameters is None:
            self._parameters = get_parameters(self.proto)
        return self._parameters

    @property
    def header(self) -> Header:
        return self.proto.header

    @property
    def request_id(self) -> str:
        return self.proto.header.request_id

    @property
    def routes(self) -> list[Route]:
        """One entry per executor that handled the request, in order."""
        return list(self.proto.routes)

    @property
    def status(self) -> Status:
        return self.proto.status

    @property
    def error(self) -> ExecutorError | None:
        """The executor error this response carries, or None when it succeeded."""
        return error_of(self.proto)

    @property
    def ok(self) -> bool:
        return self.proto.status.code == Status.SUCCESS

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"error at {self.proto.status.exception.executor or 'gateway'}"
        return f"<Response {self.request_id} {self.proto.header.exec_endpoint!r} {state}>"
