"""`GatewayServer`: gRPC and uvicorn listeners on one loop, over in-process executors (`flowql.app.server`)."""

from __future__ import annotations

import socket
import ssl
import sys
from pathlib import Path

import grpc
import httpx
import pytest

from flowql import Document
from flowql._exceptions import ConfigurationError
from flowql.app.server import GatewayServer, listener_url
from flowql.app.settings import GatewaySettings
from flowql.proto.flowql_pb2_grpc import GatewayServiceStub

from .grpc_gateway_harness import RPC_TIMEOUT_S, request_of
from .inprocess_executors import FakeExecutor, chain, factory_for, texts


def upper(docs):
    for doc in docs:
        doc.text = (doc.text or "").upper()


def refuses_connections(url: str) -> bool:
    host, port = url.split("://")[1].rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


async def test_every_listener_reports_its_bound_port_and_closes_on_stop() -> None:
    settings = GatewaySettings(host="127.0.0.1", protocols=["grpc", "http"], ports=[0, 0])
    server = GatewayServer(settings, chain("up"), transport_factory=factory_for(FakeExecutor("up", upper)))
    urls = await server.start()
    try:
        assert urls[0].startswith("grpc://127.0.0.1:") and urls[1].startswith("http://127.0.0.1:")
        assert all(not url.endswith(":0") for url in urls)
        async with grpc.aio.insecure_channel(urls[0].removeprefix("grpc://")) as channel:
            stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
            response = await stub.Process(request_of(Document(text="q")), timeout=RPC_TIMEOUT_S)
        assert texts(response) == ["Q"]
        async with httpx.AsyncClient(base_url=urls[1], timeout=RPC_TIMEOUT_S) as client:
            assert (await client.get("/status")).status_code == 200
    finally:
        await server.stop(grace=1)
    assert all(refuses_connections(url) for url in urls)


async def test_http_protocol_without_the_asgi_module_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flowql.app.asgi", None)
    settings = GatewaySettings(host="127.0.0.1", protocols=["http"], ports=[0])
    server = GatewayServer(settings, chain("up"), transport_factory=factory_for(FakeExecutor("up")))
    with pytest.raises(ConfigurationError, match="need the GraphQL gateway"):
        await server.start()


def test_listener_urls_name_the_protocol_and_tls() -> None:
    assert listener_url("grpc", "h", 1, tls=False) == "grpc://h:1"
    assert listener_url("websocket", "h", 2, tls=False) == "ws://h:2"
    assert listener_url("http", "h", 3, tls=True) == "https://h:3"
    assert listener_url("grpc", "h", 4, tls=True) == "grpcs://h:4"


async def test_tls_listeners_serve_grpcs_and_https(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    settings = GatewaySettings(
        host="127.0.0.1", protocols=["grpc", "http"], ports=[0, 0], ssl_certfile=str(cert), ssl_keyfile=str(key)
    )
    server = GatewayServer(settings, chain("up"), transport_factory=factory_for(FakeExecutor("up", upper)))
    urls = await server.start()
    try:
        assert urls[0].startswith("grpcs://") and urls[1].startswith("https://")
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        async with grpc.aio.secure_channel(urls[0].removeprefix("grpcs://"), credentials) as channel:
            stub = GatewayServiceStub(channel)  # type: ignore[no-untyped-call]
            response = await stub.Process(request_of(Document(text="tls")), timeout=RPC_TIMEOUT_S)
        assert texts(response) == ["TLS"]
        context = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=urls[1], verify=context, timeout=RPC_TIMEOUT_S) as client:
            assert (await client.get("/status")).status_code == 200
    finally:
        await server.stop(grace=1)
