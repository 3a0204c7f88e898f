"""The gateway's HTTP routes: /post for plain JSON requests, /status, /dry_run, /metrics, and its limits."""

import httpx

from flowql import DocumentArray, Executor, Flow, requests


class Upper(Executor):
    @requests(on="/upper")
    def upper(self, docs: DocumentArray, parameters: dict, **kwargs):
        for doc in docs:
            doc.text = doc.text.upper() + parameters.get("suffix", "")


# One gateway process serving two protocols on two ports; `max_depth` is one of the GraphQL limits.
f = Flow(protocol=["http", "grpc"], max_depth=5).add(name="upper", uses=Upper)
with f:
    base = f.addresses[0]  # the http one: protocols and addresses come in the order given

    # POST /post: one request batch as JSON, answered with the processed documents and the route.
    body = {"data": [{"text": "hello"}], "execEndpoint": "/upper", "parameters": {"suffix": "!"}}
    answer = httpx.post(base + "/post", json=body).json()
    assert answer["data"][0]["text"] == "HELLO!"
    assert answer["header"]["status"]["code"] == 0
    assert [route["executor"] for route in answer["routes"]] == ["gateway", "upper"]

    # Only JSON is accepted on POST (so a plain HTML form cannot send a request).
    assert httpx.post(base + "/post", content="data=1", headers={"content-type": "text/plain"}).status_code == 415

    # Health and metrics.
    status = httpx.get(base + "/status").json()
    assert [e["name"] for e in status["executors"]] == ["upper"]
    assert httpx.get(base + "/dry_run").status_code == 200
    assert "flowql" in httpx.get(base + "/metrics").text

    # The GraphQL limits refuse queries that are too deep, with a message saying so.
    deep = "{ docs { matches { matches { matches { matches { matches { id } } } } } } }"
    refused = httpx.post(base + "/graphql", json={"query": deep}).json()
    assert refused["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 5"
