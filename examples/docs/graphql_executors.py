"""Executors for graphql_basics.py, kept in their own file that the Flow loads with `py_modules`."""

import asyncio
from collections.abc import AsyncIterator

from docarray import BaseDoc, DocList
from pydantic import Field

from flowql import DocumentArray, Executor, requests


class Shout(BaseDoc):
    text: str = Field(description="What to shout.")
    times: int = Field(default=1, description="How many exclamation marks.")


class Word(BaseDoc):
    text: str = Field(description="One word.")


class Loud(Executor):
    @requests(on="/upper")
    def upper(self, docs: DocumentArray, **kwargs):
        """Upper-case the default Document's text."""
        for doc in docs:
            doc.text = doc.text.upper()

    @requests(on="/shout")
    def shout(self, docs: DocList[Shout], **kwargs) -> DocList[Shout]:
        """Typed: the GraphQL schema gets ShoutInput and Shout from these annotations."""
        for doc in docs:
            if doc.times < 0:
                raise ValueError("times must not be negative")
            doc.text = doc.text.upper() + "!" * doc.times
        return docs

    @requests(on="/words")
    async def words(self, doc: Shout, **kwargs) -> AsyncIterator[Word]:
        """Streams the words of the text, one subscription event each."""
        for word in doc.text.split():
            await asyncio.sleep(0.05)
            yield Word(text=word)
