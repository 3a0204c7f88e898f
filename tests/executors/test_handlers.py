"""Collecting handlers: @requests marks, YAML overrides, modes, schemas and accepted arguments."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from docarray import BaseDoc, DocList

from flowql import ConfigurationError, Document, DocumentArray
from flowql.executors import Executor, requests
from flowql.executors.handlers import HandlerTable


class InDoc(BaseDoc):
    text: str = ""


class OutDoc(BaseDoc):
    size: int = 0


class Base(Executor):
    @requests(on="/a")
    def a(self, docs: DocumentArray, **kwargs: Any) -> None:
        """Handles /a."""

    @requests(on=["/b", "/c"])
    async def b(self, docs: DocList[InDoc], parameters: dict[str, Any]) -> DocList[OutDoc]:
        return DocList[OutDoc]()

    @requests
    def fallback(self, docs: Any) -> None:
        pass

    def plain(self, docs: Any, **kwargs: Any) -> None:
        pass


class Child(Base):
    @requests(on="/b")
    def b_override(self, docs: Any, **kwargs: Any) -> None:
        pass

    @requests(on="/gen")
    async def gen(self, doc: InDoc, **kwargs: Any) -> AsyncIterator[OutDoc]:
        yield OutDoc()

    @requests(on="/sync-gen")
    def sync_gen(self, docs: DocList[InDoc]) -> Iterator[OutDoc]:
        yield OutDoc()

    @requests(on="/explicit", request_schema=DocList[OutDoc], response_schema=InDoc)
    def explicit(self, docs: Any, **kwargs: Any) -> None:
        pass


def test_marks_are_collected_with_subclass_winning() -> None:
    table = HandlerTable.collect(Child())
    handlers = table.endpoints()
    assert {endpoint: h.method_name for endpoint, h in handlers.items()} == {
        "/a": "a",
        "/b": "b_override",
        "/c": "b",
        "/gen": "gen",
        "/sync-gen": "sync_gen",
        "/explicit": "explicit",
    }
    assert table.default is not None and table.default.method_name == "fallback"
    assert table.lookup("/unknown") is table.default
    assert handlers["/a"].description == "Handles /a."


def test_modes_schemas_and_arguments() -> None:
    handlers = HandlerTable.collect(Child()).endpoints()
    c, gen, sync_gen = handlers["/c"], handlers["/gen"], handlers["/sync-gen"]
    assert (c.mode, c.input_type, c.output_type, c.accepted) == (
        "async",
        InDoc,
        OutDoc,
        frozenset({"docs", "parameters"}),
    )
    assert (gen.mode, gen.input_type, gen.output_type, gen.per_doc, gen.accepted) == (
        "async_gen",
        InDoc,
        OutDoc,
        True,
        None,
    )
    assert (sync_gen.mode, sync_gen.per_doc, sync_gen.input_type) == ("sync_gen", False, InDoc)
    assert handlers["/a"].input_type is Document and handlers["/a"].output_type is Document
    explicit = handlers["/explicit"]
    assert (explicit.input_type, explicit.output_type) == (OutDoc, InDoc)


def test_requests_overrides_extend_and_replace_marks() -> None:
    executor = Child.create(requests={"/a": "plain", "/new": "plain", "__default__": "a"})
    table = HandlerTable.collect(executor)
    assert table.lookup("/a").method_name == "plain"  # type: ignore[union-attr]
    assert table.lookup("/new").method_name == "plain"  # type: ignore[union-attr]
    assert table.default is not None and table.default.method_name == "a"


def test_override_naming_a_missing_method_fails_at_collection() -> None:
    with pytest.raises(ConfigurationError, match="no method 'nope'"):
        HandlerTable.collect(Child.create(requests={"/a": "nope"}))


def test_handler_requiring_an_unknown_argument_fails_at_collection() -> None:
    class Odd(Executor):
        @requests(on="/odd")
        def odd(self, documents: Any) -> None:
            pass

    with pytest.raises(ConfigurationError, match="requires argument 'documents'"):
        HandlerTable.collect(Odd())


def test_requests_rejects_non_string_endpoints() -> None:
    with pytest.raises(TypeError, match="endpoint string or a list of them"):
        requests(on=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="endpoint string or a list of them"):
        requests(on=[])


def test_executor_without_handlers_passes_everything_through() -> None:
    table = HandlerTable.collect(Executor())
    assert table.endpoints() == {} and table.default is None and table.lookup("/x") is None
