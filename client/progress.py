"""`PostProgress`: the `show_progress=True` bar (requests, documents, requests/s and documents/s)."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["PostProgress"]


class PostProgress:
    """A rich progress bar on stderr for one `post()`; `advance()` once per answered request."""

    def __init__(self, endpoint: str, total_requests: int | None, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} requests"),
            TextColumn("{task.fields[docs]} docs"),
            TextColumn("{task.fields[qps]:.1f} QPS"),
            TextColumn("{task.fields[dps]:.0f} docs/s"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(endpoint, total=total_requests, docs=0, qps=0.0, dps=0.0)
        self._docs = 0
        self._requests = 0
        self._started = time.perf_counter()

    def __enter__(self) -> PostProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def advance(self, docs: int) -> None:
        self._requests += 1
        self._docs += docs
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        self._progress.update(
            self._task,
            advance=1,
            docs=self._docs,
            qps=self._requests / elapsed,
            dps=self._docs / elapsed,
        )

    @property
    def requests(self) -> int:
        return self._requests

    @property
    def docs(self) -> int:
        return self._docs
