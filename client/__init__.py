"""The flowql client: `Client` (blocking) and `AsyncClient`, over gRPC, HTTP or WebSocket, plus GraphQL.

>>> from flowql import Client, Document
>>> with Client(port=12345) as client:                          # doctest: +SKIP
...     docs = client.post('/index', (Document(text=t) for t in texts), request_size=100)
"""

from __future__ import annotations

from flowql.client.async_client import AsyncClient
from flowql.client.response import Response
from flowql.client.retry import RetryPolicy
from flowql.client.settings import ClientSettings
from flowql.client.sync_client import Client

__all__ = ["AsyncClient", "Client", "ClientSettings", "Response", "RetryPolicy"]
