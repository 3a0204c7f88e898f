"""Executors for the GraphQL end-to-end tests; `flowql executor` processes import them as
`tests.app.graphql_executors:<Class>`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from docarray import BaseDoc, DocList
from docarray.typing import NdArray
from pydantic import Field

from flowql import Document, DocumentArray, Executor, requests


class Passage(BaseDoc):
    """A passage of text to embed."""

    text: str = Field(description="The passage's text.")


class EmbeddedPassage(BaseDoc):
    """A passage with its embedding."""

    text: str = ""
    embedding: NdArray[3] | None = Field(default=None, description="Its vector.")  # type: ignore[valid-type]


class Prompt(BaseDoc):
    """What to generate from."""

    prompt: str = ""


class Token(BaseDoc):
    """One generated token."""

    text: str = ""
    index: int = 0


class GraphQLPlayground(Executor):
    """Every endpoint the GraphQL tests need, in one executor."""

    @requests
    async def match(self, docs: DocumentArray, **kwargs: Any) -> None:
        """Adds one match with an embedding to each document (the seeds' mutation)."""
        for doc in docs:
            doc.matches.append(Document(text="match", embedding=np.array([0.5, 0.25])))

    @requests(on="/embed")
    async def embed(self, docs: DocList[Passage], **kwargs: Any) -> DocList[EmbeddedPassage]:
        """Embeds passages into 3 numbers."""
        return DocList[EmbeddedPassage](
            [EmbeddedPassage(id=doc.id, text=doc.text, embedding=np.array([len(doc.text), 1.0, 0.0])) for doc in docs]
        )

    @requests(on="/check")
    async def check(self, docs: DocumentArray, **kwargs: Any) -> None:
        """Fails on documents whose text is 'boom'."""
        for doc in docs:
            if doc.text == "boom":
                raise ValueError("boom is not allowed")
            doc.text = (doc.text or "").upper()

    @requests(on="/slow")
    def slow(self, docs: DocumentArray, parameters: dict[str, Any], **kwargs: Any) -> None:
        """Notes each call in the file `parameters['log']`, then takes `parameters['delay']` seconds."""
        with open(parameters["log"], "a") as log:
            log.write(f"{docs[0].text}\n")
        time.sleep(float(parameters.get("delay", 0.0)))

    @requests(on="/generate")
    def generate(self, doc: Prompt, parameters: dict[str, Any], **kwargs: Any) -> Iterator[Token]:
        """Yields the prompt's words one by one; waits for the file `parameters['gate']` after the first."""
        for index, word in enumerate(doc.prompt.split()):
            if parameters.get("log"):
                with open(parameters["log"], "a") as log:
                    log.write(f"{word}\n")
            yield Token(text=word, index=index)
            if index == 0 and parameters.get("gate"):
                deadline = time.monotonic() + 20
                while not Path(parameters["gate"]).exists() and time.monotonic() < deadline:
                    time.sleep(0.01)  # a sync generator runs in the worker's thread pool
