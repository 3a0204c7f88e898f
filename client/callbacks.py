"""`CallbackRunner`: the promise-like `on_done` / `on_error` / `on_always` rules of `post()`.

- a response without error -> `on_done(response)`; with an executor error -> `on_error(response,
  exception)`; then always `on_always(response)`.
- an error response with no `on_error` raises the `ExecutorError` (naming the executor), unless
  `continue_on_error`, which logs it and goes on.
- a callback that raises is logged; without `continue_on_error` its exception ends the post.
- callbacks may be coroutine functions; they are awaited.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from flowql._exceptions import FlowQLError
from flowql.client.response import Response

__all__ = ["CallbackRunner", "Callback"]

logger = logging.getLogger("flowql.client")

Callback = Callable[..., Any]


class CallbackRunner:
    """Applies one `post()`'s callbacks to each response."""

    def __init__(
        self,
        on_done: Callback | None,
        on_error: Callback | None,
        on_always: Callback | None,
        continue_on_error: bool,
    ) -> None:
        self._on_done = on_done
        self._on_error = on_error
        self._on_always = on_always
        self._continue = continue_on_error
        # The seeds show both `on_error(response)` and `on_error(response, exception)`.
        self._error_takes_exception = on_error is not None and _accepts_two_arguments(on_error)

    async def on_response(self, response: Response) -> bool:
        """Run the callbacks for `response`; True when it succeeded (its docs count as results)."""
        error = response.error
        if error is None:
            if self._on_done is not None:
                await self._call("on_done", self._on_done, response)
        elif self._on_error is not None:
            await self._call_on_error(response, error)
        elif self._continue:
            logger.error("request %s failed: %s", response.request_id, error)
        else:
            if self._on_always is not None:
                await self._call("on_always", self._on_always, response)
            raise error
        if self._on_always is not None:
            await self._call("on_always", self._on_always, response)
        return error is None

    async def on_failure(self, response: Response, exc: FlowQLError) -> None:
        """A request that got no answer because the connection failed: on_error, then on_always."""
        await self._call_on_error(response, exc)
        if self._on_always is not None:
            await self._call("on_always", self._on_always, response)

    async def _call_on_error(self, response: Response, exc: BaseException) -> None:
        if self._on_error is None:
            return
        if self._error_takes_exception:
            await self._call("on_error", self._on_error, response, exc)
        else:
            await self._call("on_error", self._on_error, response)

    async def _call(self, name: str, callback: Callback, *args: Any) -> None:
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("%s callback failed for request %s", name, args[0].request_id)
            if not self._continue:
                raise


def _accepts_two_arguments(callback: Callback) -> bool:
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # builtins such as print
        return True
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True
