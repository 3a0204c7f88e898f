"""Fixtures of the client's tests: a self-signed certificate and the stub HTTP gateway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from docarray import DocList

from tests.client.stub_gateway import StubGateway
from tests.client.stub_http import SubscriptionLog, build_app, serve_in_thread


@dataclass
class HttpStub:
    port: int
    stub: StubGateway
    log: SubscriptionLog


@pytest.fixture
def http_stub() -> Iterator[HttpStub]:
    stub, log = StubGateway(), SubscriptionLog()
    with serve_in_thread(build_app(stub, log)) as port:
        yield HttpStub(port, stub, log)


def as_docs(result: object) -> DocList[Any]:
    """`post()`'s result when it must be documents (narrows the return type for mypy, checks it)."""
    assert isinstance(result, DocList), f"expected documents, got {type(result).__name__}"
    return result
