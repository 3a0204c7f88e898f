"""Asking a gateway whether it serves (gRPC health service, or HTTP `GET /status`), with a bounded wait."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["wait_gateway_serving", "wait_http_serving", "wait_tcp_open"]


def wait_gateway_serving(address: str, *, timeout: float) -> None:
    """Return once `address` (host:port) reports SERVING; raise TimeoutError after `timeout` seconds."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)

        def check(limit: float) -> str | None:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=limit)
            except grpc.RpcError as exc:
                return f"{exc.code().name}: {exc.details()}"
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return None
            return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

        _poll_until(check, timeout=timeout, failure=f"health check of {address} did not report SERVING")


def wait_http_serving(base_url: str, *, timeout: float) -> None:
    """Return once `GET <base_url>/status` answers 200; raise TimeoutError after `timeout` seconds."""
    # The gateway's own certificate may be self-signed; this only asks whether it is up.
    with httpx.Client(verify=False, trust_env=False) as client:

        def check(limit: float) -> str | None:
            try:
                reply = client.get(f"{base_url}/status", timeout=limit)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            return None if reply.status_code == 200 else f"HTTP {reply.status_code}"

        _poll_until(check, timeout=timeout, failure=f"{base_url}/status did not answer 200")


def wait_tcp_open(address: str, *, timeout: float) -> None:
    """Return once `host:port` accepts a TCP connection (for TLS listeners, whose certificates we cannot check)."""
    host, _, port = address.rpartition(":")

    def check(limit: float) -> str | None:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=max(0.1, limit)):
                return None
        except OSError as exc:
            return str(exc)

    _poll_until(check, timeout=timeout, failure=f"{address} did not accept connections")


def _poll_until(check: Callable[[float], str | None], *, timeout: float, failure: str) -> None:
    """Call `check(seconds it may take)` until it returns None; it returns why not yet otherwise.

    Raises TimeoutError naming `failure` and the last reason once `timeout` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{failure} within {timeout:.0f} s: {last}")
        reason = check(min(remaining, 2.0))
        if reason is None:
            return
        last = reason
        # A listener that is bound but not yet serving answers at once; do not spin on it.
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
