"""GraphQL at the gateway's /graphql: the generic `docs` field, typed fields, and a streaming subscription."""

from pathlib import Path

import httpx

from flowql import Client, Flow, GraphQLResponseError

EXECUTORS = str(Path(__file__).with_name("graphql_executors.py"))

with Flow(protocol="http").add(name="loud", uses="Loud", py_modules=[EXECUTORS]) as f:
    client = Client(host=f.addresses[0])  # e.g. http://127.0.0.1:PORT

    # The generic field works on the default Document type; parameters are a JSON object.
    result = client.mutate('mutation { docs(data: [{text: "abc"}], execEndpoint: "/upper") { id text } }')
    assert result["data"]["docs"][0]["text"] == "ABC"

    # A typed field per endpoint that declares its own documents; bulk data belongs in variables.
    result = client.mutate(
        "mutation ($d: [ShoutInput!]!) { shout(data: $d) { text times } }",
        variables={"d": [{"text": "hey", "times": 3}]},
    )
    assert result["data"]["shout"] == [{"text": "HEY!!!", "times": 3}]

    # An executor error comes back as a GraphQL error naming the executor.
    try:
        client.mutate('mutation { shout(data: [{text: "x", times: -1}]) { text } }')
    except GraphQLResponseError as error:
        [problem] = error.errors
        assert problem["extensions"]["executor"] == "loud"
        assert problem["extensions"]["message"] == "times must not be negative"
    else:
        raise AssertionError("a negative `times` should have failed")

    # A generator endpoint is a subscription: one event per yielded document, as it is yielded.
    events = client.subscribe('subscription { words(data: [{text: "one two three"}]) { text } }')
    assert [event["data"]["words"]["text"] for event in events] == ["one", "two", "three"]

    # Any HTTP client works: GraphQL is a JSON POST.
    response = httpx.post(
        f.addresses[0] + "/graphql", json={"query": "{ endpoints { endpoint outputType streaming } }"}
    )
    print(response.json()["data"]["endpoints"])
    client.close()
