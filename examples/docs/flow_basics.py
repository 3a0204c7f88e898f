"""A Flow: executors wired into a graph, each in its own process, served by one gateway.

The executors are defined right here, in the script being run: the Flow ships such classes to its
executor processes by value, so no `if __name__ == '__main__':` guard is needed.
"""

import os
import tempfile

from flowql import Document, DocumentArray, Executor, Flow, requests


class Upper(Executor):
    @requests(on="/upper")
    async def upper(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.text = doc.text.upper()


class Counter(Executor):
    @requests(on="/upper")
    def count(self, docs: DocumentArray, parameters: dict, **kwargs):
        # A dict result reaches the caller under parameters['__results__'][<executor name>].
        return {"seen": len(docs), "note": parameters.get("note")}


f = (
    Flow(protocol=["grpc", "http"])  # no port given: free ports are picked
    .add(name="upper", uses=Upper)
    .add(name="counter", uses=Counter, needs="upper")
)

with f:  # starts one process per executor plus the gateway; stops them all on leaving
    docs = f.post("/upper", [Document(text="hello"), Document(text="world")])
    assert docs.texts == ["HELLO", "WORLD"]

    # Batching: 10 documents in requests of 4 -> 3 requests, all results back as one DocumentArray.
    many = f.post("/upper", (Document(text=f"doc {i}") for i in range(10)), request_size=4)
    assert len(many) == 10 and many[9].text == "DOC 9"

    # Parameters travel with the request; return_responses gives the raw responses, results included.
    [response] = f.post("/upper", Document(text="x"), parameters={"note": "hi"}, return_responses=True)
    assert response.parameters["__results__"] == {"counter": {"seen": 1, "note": "hi"}}
    print("served at:", f.addresses)

# The same Flow as YAML, and back: `save_config` writes it, `Flow.load_config` reads a path or a string.
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "flow.yml")
    f.save_config(path)
    print(open(path).read())
    assert [e.name for e in Flow.load_config(path).executors] == ["upper", "counter"]
