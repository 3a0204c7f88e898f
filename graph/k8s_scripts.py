"""Small Python programs the exported containers run with `python -c SCRIPT ARGS` (the image has Python,
grpcio and grpcio-health-checking, flowql's own dependencies, so no extra probe binary is needed).
"""

from __future__ import annotations

__all__ = ["HEALTHCHECK_SCRIPT", "HTTP_HEALTHCHECK_SCRIPT", "WAIT_FOR_EXECUTORS_SCRIPT"]

HEALTHCHECK_SCRIPT = """\
import sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
channel = grpc.insecure_channel('127.0.0.1:' + sys.argv[1])
reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=''), timeout=3)
sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)
"""
"""`python -c HEALTHCHECK_SCRIPT PORT`: exit 0 when the gRPC health service on PORT says SERVING."""

HTTP_HEALTHCHECK_SCRIPT = """\
import sys, urllib.request
with urllib.request.urlopen('http://127.0.0.1:' + sys.argv[1] + '/status', timeout=3) as reply:
    sys.exit(0 if reply.status == 200 else 1)
"""
"""`python -c HTTP_HEALTHCHECK_SCRIPT PORT`: exit 0 when the gateway's GET /status answers 200."""

WAIT_FOR_EXECUTORS_SCRIPT = """\
import json, sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
with open(sys.argv[1]) as file:
    topology = json.load(file)
pending = {a for node in topology['nodes'] if not node.get('external') for shard in node['shards'] for a in shard}
while pending:
    for target in sorted(pending):
        channel = grpc.insecure_channel(target)
        try:
            request = health_pb2.HealthCheckRequest(service='')
            reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                pending.discard(target)
        except grpc.RpcError:
            pass
        finally:
            channel.close()
    if pending:
        print('waiting for executors: ' + ', '.join(sorted(pending)), flush=True)
        time.sleep(2)
print('every executor serves', flush=True)
"""
"""`python -c WAIT_FOR_EXECUTORS_SCRIPT TOPOLOGY_PATH`: return once some pod of every executor shard serves.

The gateway's init container: the gateway builds its GraphQL schema from the executors' endpoints
when it starts, so it should start after they serve (Compose has `depends_on` for that)."""
