"""The GraphQL schema built from a Flow's endpoints, executed in process over a fake streamer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import numpy as np
import pytest
from docarray import BaseDoc, DocList
from docarray.typing import NdArray
from pydantic import Field

from flowql._exceptions import ConfigurationError
from flowql.app.graphql_schema import GatewaySchema, build_schema
from flowql.app.settings import GatewaySettings
from flowql.app.streamer_view import read_endpoints, read_executors
from flowql.documents import Document
from tests.app.fake_streamer import FakeEndpoint, FakeExecutor, FakeStreamer


class Passage(BaseDoc):
    """A passage of text to embed."""

    text: str = Field(description="The passage's text.")
    lang: str = "en"


class EmbeddedPassage(BaseDoc):
    """A passage with its embedding."""

    text: str = ""
    embedding: NdArray[4] | None = Field(  # type: ignore[valid-type]
        default=None, description="Unit vector of the passage."
    )
    length: int = 0


def embed(docs: DocList[Passage], parameters: dict[str, Any]) -> DocList[EmbeddedPassage]:
    return DocList[EmbeddedPassage](
        [EmbeddedPassage(id=d.id, text=d.text, embedding=np.ones(4) / 2, length=len(d.text)) for d in docs]
    )


def add_match(docs: DocList[Document], parameters: dict[str, Any]) -> None:
    for doc in docs:
        doc.matches.append(Document(text="match", embedding=np.array([0.5, 0.25])))


def shout(docs: DocList[Document], parameters: dict[str, Any]) -> None:
    for doc in docs:
        doc.text = (doc.text or "").upper() + parameters.get("suffix", "")


def fail_on_boom(docs: DocList[Document], parameters: dict[str, Any]) -> None:
    for doc in docs:
        if doc.text == "boom":
            raise ValueError(f"cannot process {doc.text!r}")


async def schema_for(streamer: FakeStreamer, settings: GatewaySettings | None = None) -> GatewaySchema:
    return build_schema(
        streamer, settings or GatewaySettings(), await read_endpoints(streamer), await read_executors(streamer)
    )


async def execute(schema: GatewaySchema, query: str, variable_values: dict[str, Any] | None = None) -> Any:
    """The result, typed loosely: tests index into it freely."""
    return await schema.execute(query, variable_values=variable_values)


async def subscribe(schema: GatewaySchema, query: str) -> Any:
    return await schema.subscribe(query)


def flow(*endpoints: FakeEndpoint, name: str = "exec") -> FakeStreamer:
    return FakeStreamer([FakeExecutor(name, list(endpoints))])


async def test_generic_docs_field_answers_the_seeds_mutation() -> None:
    schema = await schema_for(flow(FakeEndpoint("/", add_match)))
    result = await execute(schema, 'mutation { docs(data: {text: "abcd"}) { id matches { embedding } } }')
    assert result.errors is None
    (doc,) = result.data["docs"]
    assert len(doc["id"]) == 32
    assert doc["matches"] == [{"embedding": [0.5, 0.25]}]


async def test_generic_docs_field_exists_on_query_mutation_and_subscription() -> None:
    schema: Any = (await schema_for(flow(FakeEndpoint("/", add_match))))._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    for root in roots:
        assert root is not None
        field = root.fields["docs"]
        assert {name: str(arg.type) for name, arg in field.args.items()} == {
            "data": "[DocumentInput!]",
            "execEndpoint": "String!",
            "targetExecutor": "String",
            "parameters": "JSON",
            "requestSize": "Int",
        }
        assert field.args["execEndpoint"].default_value == "/"
    assert [str(root.fields["docs"].type) for root in roots] == ["[Document!]!", "[Document!]!", "DocsEvent!"]
    document = schema.type_map["Document"]
    assert set(document.fields) == {
        "id",
        "text",
        "uri",
        "mimeType",
        "tags",
        "embedding",
        "tensor",
        "blob",
        "scores",
        "matches",
        "chunks",
    }
    assert str(document.fields["matches"].type) == "[Document!]"
    assert str(document.fields["embedding"].type) == "[Float!]"
    assert str(document.fields["blob"].type) == "Base64"
    assert str(document.fields["tags"].type) == "JSON"


async def test_each_input_document_gets_its_own_fresh_id() -> None:
    schema = await schema_for(flow(FakeEndpoint("/", shout)))
    query = 'mutation { docs(data: [{text: "a"}, {text: "b"}]) { id } }'
    first = await execute(schema, query)
    second = await execute(schema, query)
    ids = [doc["id"] for doc in first.data["docs"] + second.data["docs"]]
    assert len(set(ids)) == 4


async def test_parameters_take_a_json_object_literal() -> None:
    schema = await schema_for(flow(FakeEndpoint("/shout", shout)))
    result = await execute(
        schema, 'mutation { docs(data: {text: "hi"}, execEndpoint: "/shout", parameters: {suffix: "!"}) { text } }'
    )
    assert result.errors is None
    assert result.data["docs"] == [{"text": "HI!"}]


async def test_typed_endpoint_gets_typed_fields_with_descriptions() -> None:
    schema = await schema_for(flow(FakeEndpoint("/embed/passages", embed, Passage, EmbeddedPassage)))
    sdl = schema.as_str()
    assert "embedPassages(" in sdl
    assert "data: [PassageInput!]!" in sdl
    assert "): [EmbeddedPassage!]!" in sdl
    assert '"""A passage of text to embed."""\ninput PassageInput' in sdl
    assert "The passage's text." in sdl
    assert "Unit vector of the passage. A tensor (docarray NdArray) as a flat list of floats. Shape [4]." in sdl
    assert "type EmbedPassagesEvent" in sdl


async def test_typed_endpoint_round_trips_a_custom_document_with_embedding() -> None:
    schema = await schema_for(flow(FakeEndpoint("/embed", embed, Passage, EmbeddedPassage)))
    result = await execute(
        schema,
        "mutation ($d: [PassageInput!]!) { embed(data: $d) { id text embedding length } }",
        variable_values={"d": [{"text": "hello", "id": "p1"}, {"text": "hi"}]},
    )
    assert result.errors is None
    first, second = result.data["embed"]
    assert first == {"id": "p1", "text": "hello", "embedding": [0.5] * 4, "length": 5}
    assert second["length"] == 2 and second["id"] != "p1"


async def test_required_field_missing_is_a_validation_error() -> None:
    schema = await schema_for(flow(FakeEndpoint("/embed", embed, Passage, EmbeddedPassage)))
    result = await execute(schema, 'mutation { embed(data: {lang: "de"}) { id } }')
    assert result.errors is not None
    assert "text" in result.errors[0].message and "PassageInput" in result.errors[0].message


async def test_wrong_embedding_size_says_which_field_and_shape() -> None:
    class Vec(BaseDoc):
        vec: NdArray[3]  # type: ignore[valid-type]

    schema = await schema_for(flow(FakeEndpoint("/vec", lambda docs, parameters: None, Vec, Vec)))
    result = await execute(schema, "mutation { vec(data: {vec: [1, 2]}) { id } }")
    assert result.errors is not None
    error = result.errors[0]
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert "'vec' must hold 3 numbers (shape [3]), got 2" in error.message


async def test_unknown_field_is_a_validation_error() -> None:
    schema = await schema_for(flow(FakeEndpoint("/", shout)))
    result = await execute(schema, 'mutation { docs(data: {txt: "a"}) { id } }')
    assert result.errors is not None
    assert "txt" in result.errors[0].message


async def test_unknown_endpoint_is_refused_with_the_known_ones() -> None:
    schema = await schema_for(flow(FakeEndpoint("/shout", shout)))
    result = await execute(schema, 'mutation { docs(data: {text: "a"}, execEndpoint: "/nope") { id } }')
    assert result.errors is not None
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "unknown endpoint '/nope'" in result.errors[0].message and "/shout" in result.errors[0].message


async def test_colliding_endpoint_names_fail_naming_both() -> None:
    streamer = flow(
        FakeEndpoint("/foo/bar", embed, Passage, EmbeddedPassage),
        FakeEndpoint("/foo_bar", embed, Passage, EmbeddedPassage),
    )
    with pytest.raises(ConfigurationError) as caught:
        await schema_for(streamer)
    assert "'/foo/bar'" in str(caught.value) and "'/foo_bar'" in str(caught.value)


async def test_typed_endpoint_named_docs_collides_with_the_generic_field() -> None:
    with pytest.raises(ConfigurationError, match="generic `docs` field and endpoint '/docs'"):
        await schema_for(flow(FakeEndpoint("/docs", embed, Passage, EmbeddedPassage)))


async def test_executor_error_keeps_the_other_batches_documents() -> None:
    schema = await schema_for(flow(FakeEndpoint("/check", fail_on_boom), name="checker"))
    result = await execute(
        schema,
        'mutation { docs(data: [{text: "a", id: "1"}, {text: "boom", id: "2"}, {text: "c", id: "3"}], '
        'execEndpoint: "/check", requestSize: 1) { id } }',
    )
    assert result.data == {"docs": [{"id": "1"}, {"id": "3"}]}
    (error,) = result.errors
    assert error.extensions["code"] == "EXECUTOR_ERROR"
    assert error.extensions["executor"] == "checker"
    assert error.extensions["exceptionType"] == "ValueError"
    assert error.extensions["message"] == "cannot process 'boom'"
    assert error.extensions["documentIds"] == ["2"]
    assert "checker" in error.message


async def test_unexpected_gateway_exception_is_masked_and_logged_with_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenStreamer(FakeStreamer):
        async def process(self, request: Any) -> Any:
            raise KeyError("internal detail")

    streamer = BrokenStreamer([FakeExecutor("exec", [FakeEndpoint("/", shout)])])
    schema = await schema_for(streamer)
    with caplog.at_level(logging.ERROR, logger="flowql.gateway"):
        result = await execute(schema, 'mutation { docs(data: {text: "a"}) { id } }')
    (error,) = result.errors
    assert "internal detail" not in error.message
    request_id = error.extensions["requestId"]
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert request_id in error.message
    assert any(request_id in record.getMessage() and record.exc_info for record in caplog.records)


async def test_flow_queries_describe_executors_edges_endpoints_and_health() -> None:
    streamer = FakeStreamer(
        [
            FakeExecutor("first", [FakeEndpoint("/embed", embed, Passage, EmbeddedPassage)]),
            FakeExecutor("second", [FakeEndpoint("/", shout)]),
        ]
    )
    schema = await schema_for(streamer)
    result = await execute(
        schema,
        "{ executors { name endpoints replicas shards polling needs health } edges { source target } "
        "endpoints { endpoint executors inputType outputType streaming field } health { ok executors { name } } }",
    )
    assert result.errors is None
    data = result.data
    assert data["executors"][1] == {
        "name": "second",
        "endpoints": ["/"],
        "replicas": 1,
        "shards": 1,
        "polling": {"*": "ANY"},
        "needs": ["first"],
        "health": "SERVING",
    }
    assert data["edges"] == [
        {"source": "gateway", "target": "first"},
        {"source": "first", "target": "second"},
        {"source": "second", "target": "end"},
    ]
    assert {
        "endpoint": "/embed",
        "executors": ["first"],
        "inputType": "PassageInput",
        "outputType": "EmbeddedPassage",
        "streaming": False,
        "field": "embed",
    } in data["endpoints"]
    assert data["health"] == {"ok": True, "executors": [{"name": "first"}, {"name": "second"}]}


async def test_subscription_sends_one_event_per_batch_with_progress() -> None:
    schema = await schema_for(flow(FakeEndpoint("/", shout)))
    data = ", ".join(f'{{text: "t{i}"}}' for i in range(10))
    events = await subscribe(
        schema,
        f"subscription {{ docs(data: [{data}], requestSize: 1) "
        "{ docs { text } progress { done total } batch } }",
    )
    received = [event async for event in events]
    assert len(received) == 10
    assert all(event.errors is None for event in received)
    assert [event.data["docs"]["progress"] for event in received] == [{"done": i, "total": 10} for i in range(1, 11)]
    assert sorted(event.data["docs"]["batch"] for event in received) == list(range(10))
    texts = {event.data["docs"]["batch"]: event.data["docs"]["docs"][0]["text"] for event in received}
    assert texts == {i: f"T{i}" for i in range(10)}


async def test_executor_error_mid_subscription_names_it_and_the_rest_still_arrive() -> None:
    schema = await schema_for(flow(FakeEndpoint("/check", fail_on_boom), name="checker"))
    events = await subscribe(
        schema,
        'subscription { docs(data: [{text: "a"}, {text: "boom"}, {text: "c"}], execEndpoint: "/check", '
        "requestSize: 1) { docs { text } } }",
    )
    received = [event async for event in events]
    assert len(received) == 3
    failed = [event for event in received if event.errors]
    assert len(failed) == 1
    assert failed[0].errors[0].extensions["executor"] == "checker"
    assert failed[0].errors[0].extensions["progress"]["total"] == 3
    texts = sorted(event.data["docs"]["docs"][0]["text"] for event in received if not event.errors)
    assert texts == ["a", "c"]


async def test_generator_endpoint_streams_first_event_before_it_finishes() -> None:
    release = asyncio.Event()
    finished = asyncio.Event()

    async def tokens(doc: Document, parameters: dict[str, Any]) -> Any:
        yield Document(text="first")
        await release.wait()  # the test releases this only after it saw the first event
        yield Document(text="second")
        finished.set()

    schema = await schema_for(flow(FakeEndpoint("/generate", tokens, streaming=True)))
    events = await subscribe(schema, 'subscription { generate(data: {text: "go"}) { text } }')
    iterator = events.__aiter__()
    first = await asyncio.wait_for(iterator.__anext__(), 5)
    assert first.data == {"generate": {"text": "first"}}
    assert not finished.is_set()
    release.set()
    second = await asyncio.wait_for(iterator.__anext__(), 5)
    assert second.data == {"generate": {"text": "second"}}
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(iterator.__anext__(), 5)


async def test_typed_generator_endpoint_streams_its_own_type() -> None:
    async def words(doc: Passage, parameters: dict[str, Any]) -> Any:
        for word in doc.text.split():
            yield EmbeddedPassage(text=word, length=len(word))

    schema = await schema_for(flow(FakeEndpoint("/split", words, Passage, EmbeddedPassage, streaming=True)))
    events = await subscribe(schema, 'subscription { split(data: {text: "a bb ccc"}) { text length } }')
    received = [event.data["split"] async for event in events]
    assert received == [{"text": "a", "length": 1}, {"text": "bb", "length": 2}, {"text": "ccc", "length": 3}]


async def test_closing_a_subscription_cancels_the_batch_in_flight_and_sends_no_more() -> None:
    gate = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow(docs: DocList[Document], parameters: dict[str, Any]) -> None:
        if docs[0].text == "t0":
            return
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    streamer = flow(FakeEndpoint("/slow", slow))
    schema = await schema_for(streamer, GatewaySettings(prefetch=2))
    data = ", ".join(f'{{text: "t{i}"}}' for i in range(10))
    events = await subscribe(
        schema, f'subscription {{ docs(data: [{data}], execEndpoint: "/slow", requestSize: 1) {{ batch }} }}'
    )
    iterator = events.__aiter__()
    first = await asyncio.wait_for(iterator.__anext__(), 5)
    assert first.data == {"docs": {"batch": 0}}
    with contextlib.suppress(StopAsyncIteration):
        await asyncio.wait_for(events.aclose(), 5)
    await asyncio.wait_for(cancelled.wait(), 5)
    gate.set()
    assert streamer.process_calls == 2  # the first batch and the one cancelled in flight, no more


async def test_an_unreadable_document_schema_is_served_as_document() -> None:
    streamer = flow(FakeEndpoint("/odd", shout))
    views = await read_endpoints(streamer)
    views[0].input_schema_name, views[0].input_schema = "Odd", '{"$ref": "#/$defs/Missing"}'
    views[0].output_schema_name = "Odd"
    schema = build_schema(streamer, GatewaySettings(), views, await read_executors(streamer))
    assert "odd(" not in schema.as_str()
    result = await execute(schema, 'mutation { docs(data: {text: "a"}, execEndpoint: "/odd") { text } }')
    assert result.data == {"docs": [{"text": "A"}]}


async def test_document_classes_named_like_fixed_types_get_a_suffix() -> None:
    class Progress(BaseDoc):
        percent: float = 0.0

    schema = await schema_for(flow(FakeEndpoint("/track", lambda docs, parameters: None, Progress, Progress)))
    sdl = schema.as_str()
    assert "type Progress2 {" in sdl and "input Progress2Input {" in sdl
    assert "type Progress {" in sdl  # the subscriptions' own progress type is untouched


async def test_a_stream_that_loses_its_executor_ends_with_a_clear_error() -> None:
    from flowql._exceptions import ServiceUnavailable

    class Vanishing(FakeStreamer):
        async def stream(self, request: Any) -> Any:
            async for response in super().stream(request):
                yield response
                raise ServiceUnavailable("executor 'gen' at 127.0.0.1:1 went away")

    async def tokens(doc: Document, parameters: dict[str, Any]) -> Any:
        for word in ("a", "b"):
            yield Document(text=word)

    streamer = Vanishing([FakeExecutor("gen", [FakeEndpoint("/generate", tokens, streaming=True)])])
    events = await subscribe(await schema_for(streamer), 'subscription { generate(data: {text: "x"}) { text } }')
    received = [event async for event in events]
    assert received[0].data == {"generate": {"text": "a"}}
    error = received[1].errors[0]
    assert error.extensions["code"] == "EXECUTOR_UNAVAILABLE" and "went away" in error.message
