"""Asking a gateway whether it serves (gRPC health service, or HTTP `GET /status`), with a bounded wait."""

from __future__ import annotations

import socket
import time

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["wait_gateway_serving", "wait_http_serving", "wait_tcp_open"]


def wait_gateway_serving(address: str, *, timeout: float) -> None:
    """Return once `address` (host:port) reports SERVING; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"health check of {address} did not report SERVING within {timeout:.0f} s: {last}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=min(remaining, 2.0))
            except grpc.RpcError as exc:
                last = f"{exc.code().name}: {exc.details()}"
            else:
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            # A listener that is bound but not yet serving answers at once; do not spin on it.
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def wait_http_serving(base_url: str, *, timeout: float) -> None:
    """Return once `GET <base_url>/status` answers 200; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    # The gateway's own certificate may be self-signed; this only asks whether it is up.
    with httpx.Client(verify=False, trust_env=False) as client:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{base_url}/status did not answer 200 within {timeout:.0f} s: {last}")
            try:
                reply = client.get(f"{base_url}/status", timeout=min(remaining, 2.0))
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if reply.status_code == 200:
                    return
                last = f"HTTP {reply.status_code}"
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def wait_tcp_open(address: str, *, timeout: float) -> None:
    """Return once `host:port` accepts a TCP connection (for TLS listeners, whose certificates we cannot check)."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=max(0.1, min(remaining, 2.0))):
                return
        except OSError as exc:
            if remaining <= 0:
                raise TimeoutError(f"{address} did not accept connections within {timeout:.0f} s: {exc}") from None
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
