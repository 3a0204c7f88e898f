"""The README's example: an Executor, a Flow serving GraphQL and gRPC, and three ways to call it."""

from flowql import Client, Document, DocumentArray, Executor, Flow, requests


class Upper(Executor):
    @requests(on="/upper")
    async def upper(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.text = doc.text.upper()


with Flow(protocol=["http", "grpc"]).add(name="upper", uses=Upper) as f:
    http_url, grpc_url = f.addresses  # free ports were picked: http://127.0.0.1:..., grpc://...
    print(f.post("/upper", Document(text="hello")).texts)  # ['HELLO'] (over gRPC)

    graphql = Client(host=http_url)
    result = graphql.mutate('mutation { docs(data: [{text: "abc"}], execEndpoint: "/upper") { id text } }')
    print(result["data"]["docs"][0]["text"])  # ABC

    batches = 'docs(data: [{text: "a"}, {text: "b"}], execEndpoint: "/upper", requestSize: 1)'
    for event in graphql.subscribe(f"subscription {{ {batches} {{ progress {{ done total }} docs {{ text }} }} }}"):
        print(event)  # one event per batch, as soon as it is done
