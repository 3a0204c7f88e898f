"""Fixtures of the client's tests: a self-signed certificate and the stub HTTP gateway."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docarray import DocList

from tests.client.stub_gateway import StubGateway
from tests.client.stub_http import SubscriptionLog, build_app, serve_in_thread


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) PEM files for 127.0.0.1 and localhost, made by Debian's openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


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
