"""The DataRequest WebSocket at `/ws`: the client's `protocol='websocket'`.

Protocol (no subprotocol; binary frames only):

- client -> server: each binary frame is one serialized `flowql.DataRequest` (protobuf bytes,
  header.exec_endpoint set, header.request_id unique per request).
- server -> client: one binary frame per request, the serialized processed DataRequest, sent as
  soon as it is done: in completion order, so match them by `header.request_id`. An executor
  failure is a response whose `status.code` is ERROR, as on gRPC. At most `prefetch` requests
  of one connection are processed at once; further frames wait (backpressure).
- client -> server, an empty binary frame: "no more requests". The server sends the remaining
  responses, then closes with code 1000.
- A frame that is not a DataRequest (or a text frame): the server closes with code 1003 and a
  reason. When the client goes away, its requests still in flight are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib

from google.protobuf.message import DecodeError
from starlette.websockets import WebSocket, WebSocketDisconnect

from flowql.app.metrics import GatewayMetrics
from flowql.app.streamer_view import StreamerAPI
from flowql.proto.flowql_pb2 import DataRequest

__all__ = ["DataRequestSocket"]


class DataRequestSocket:
    """Serves one app's `/ws` connections."""

    def __init__(self, streamer: StreamerAPI, prefetch: int, metrics: GatewayMetrics) -> None:
        self.streamer = streamer
        self.prefetch = prefetch
        self.metrics = metrics

    async def serve(self, websocket: WebSocket) -> None:
        """The `/ws` endpoint: one connection, many requests."""
        await websocket.accept()
        slots = asyncio.Semaphore(self.prefetch) if self.prefetch > 0 else None
        tasks: set[asyncio.Task[None]] = set()
        send_lock = asyncio.Lock()

        async def answer(request: DataRequest) -> None:
            try:
                response = await self.streamer.process(request)
                self.metrics.observe_response(response)
                async with send_lock:
                    # The client may have gone away meanwhile; the receive loop sees that and ends.
                    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                        await websocket.send_bytes(response.SerializeToString())
            finally:
                if slots is not None:
                    slots.release()

        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is None:
                    await websocket.close(1003, "send DataRequests as binary frames")
                    return
                if not data:  # the client has sent everything
                    if tasks:
                        await asyncio.gather(*tasks)
                    await websocket.close(1000)
                    return
                request = DataRequest()
                try:
                    request.ParseFromString(data)
                except DecodeError:
                    await websocket.close(1003, "a frame is not a serialized DataRequest")
                    return
                if slots is not None:
                    await slots.acquire()
                task = asyncio.create_task(answer(request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except WebSocketDisconnect:
            return
        finally:
            for task in tasks:
                task.cancel()
            for task in list(tasks):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task
