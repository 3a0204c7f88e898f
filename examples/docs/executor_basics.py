"""Executors: handlers for endpoints, typed documents, results in `parameters`, streaming generators.

Handlers are plain methods, so an Executor can be tried (and unit-tested) without any server.
"""

import asyncio
from collections.abc import AsyncIterator

from docarray import BaseDoc, DocList

from flowql import Document, DocumentArray, Executor, requests


class Upper(Executor):
    def __init__(self, suffix: str = "", **kwargs):
        super().__init__(**kwargs)
        self.suffix = suffix

    @requests(on="/upper")
    async def upper(self, docs: DocumentArray, parameters: dict, **kwargs):
        # Returning None hands on the (changed) input documents.
        for doc in docs:
            doc.text = doc.text.upper() + self.suffix

    @requests(on="/count")
    def count(self, docs: DocumentArray, **kwargs):
        # A dict is returned to the caller under parameters['__results__'][<executor name>].
        return {"documents": len(docs)}

    @requests
    def everything_else(self, docs: DocumentArray, **kwargs):
        """The default handler: any endpoint without its own."""
        for doc in docs:
            doc.tags["handled_by"] = "default"


class Question(BaseDoc):
    text: str


class Answer(BaseDoc):
    text: str
    length: int


class Answerer(Executor):
    @requests(on="/answer")
    def answer(self, docs: DocList[Question], **kwargs) -> DocList[Answer]:
        """Typed: documents arrive as Question; the returned list replaces them."""
        return DocList[Answer]([Answer(text=f"You asked: {q.text}", length=len(q.text)) for q in docs])

    @requests(on="/spell")
    async def spell(self, doc: Question, **kwargs) -> AsyncIterator[Answer]:
        """A generator: each yielded document is streamed to the caller as soon as it is produced."""
        for letter in doc.text:
            await asyncio.sleep(0.01)
            yield Answer(text=letter, length=1)


# Built by hand the way the runtime builds it: `uses_with` keywords go to __init__.
upper = Upper.create(uses_with={"suffix": "!"})
docs = DocumentArray([Document(text="hello"), Document(text="world")])
asyncio.run(upper.upper(docs, parameters={}))
assert docs.texts == ["HELLO!", "WORLD!"]
assert upper.count(docs) == {"documents": 2}
upper.everything_else(docs)
assert docs[0].tags == {"handled_by": "default"}

answerer = Answerer()
[answer] = answerer.answer(DocList[Question]([Question(text="why?")]))
assert answer.text == "You asked: why?" and answer.length == 4


async def spell() -> list[str]:
    return [a.text async for a in answerer.spell(Question(text="abc"))]


assert asyncio.run(spell()) == ["a", "b", "c"]
print("executors ok")
