"""Asking a gateway's gRPC health service whether it serves, with a bounded wait."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["wait_gateway_serving"]


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
