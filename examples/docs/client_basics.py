"""The Client: one API over gRPC, HTTP and WebSocket, with batching, callbacks, errors and an asyncio twin."""

import asyncio

from flowql import Client, Document, DocumentArray, Executor, ExecutorError, Flow, requests


class Upper(Executor):
    @requests(on="/upper")
    def upper(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            if doc.text == "boom":
                raise ValueError("cannot shout boom")
            doc.text = doc.text.upper()


f = Flow(protocol=["grpc", "http", "websocket"]).add(name="upper", uses=Upper)
with f:
    grpc_url, http_url, ws_url = f.addresses  # grpc://..., http://..., ws://...

    # The same call over every protocol; the URI's scheme picks it (or pass host=, port=, protocol=).
    for url in (grpc_url, http_url, ws_url):
        with Client(host=url) as client:
            docs = client.post("/upper", [Document(text="a"), Document(text="b")])
            assert docs.texts == ["A", "B"], url

    with Client(host=grpc_url) as client:
        # Inputs are sent lazily in batches of `request_size`; callbacks run once per response.
        seen = []
        client.post(
            "/upper",
            (Document(text=f"doc {i}") for i in range(25)),
            request_size=10,
            on_done=lambda response: seen.append(len(response.docs)),
        )
        assert sorted(seen) == [5, 10, 10]

        # An executor's exception comes back naming the executor.
        try:
            client.post("/upper", Document(text="boom"))
        except ExecutorError as error:
            assert error.executor == "upper" and "cannot shout boom" in str(error)
        else:
            raise AssertionError("the executor's error should have been raised")

        # ... or goes to `on_error`, and the other requests carry on.
        failures = []
        client.post(
            "/upper",
            [Document(text="ok"), Document(text="boom"), Document(text="fine")],
            request_size=1,
            on_error=lambda response, exception: failures.append(type(exception).__name__),
        )
        assert failures == ["ExecutorError"]

    # GraphQL through the client, over the HTTP port.
    with Client(host=http_url) as client:
        result = client.mutate('mutation { docs(data: [{text: "gql"}], execEndpoint: "/upper") { text } }')
        assert result["data"]["docs"] == [{"text": "GQL"}]

    # The asyncio client: `post` is an async iterator of responses.
    async def main() -> list[str]:
        texts = []
        async with Client(host=grpc_url, asyncio=True) as client:
            async for response in client.post("/upper", [Document(text="x"), Document(text="y")], request_size=1):
                texts.extend(response.docs.texts)
        return sorted(texts)

    assert asyncio.run(main()) == ["X", "Y"]
