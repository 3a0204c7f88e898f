"""`RetryPolicy`: how often and how patiently a request is re-sent after the gateway was unavailable."""

from __future__ import annotations

import random
from dataclasses import dataclass

from flowql._exceptions import ConfigurationError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Send attempts per request (the first included) and the jittered exponential backoff between them.

    Retry n (n = 1 after the first failed attempt) waits a random time in
    `[0, min(initial_backoff * backoff_multiplier ** (n - 1), max_backoff)]` seconds ("full jitter"),
    so many clients that lost the same gateway do not come back in lockstep.

    >>> RetryPolicy(max_attempts=3, initial_backoff=0.5, max_backoff=2, backoff_multiplier=1.5).ceiling(2)
    0.75
    """

    max_attempts: int = 1
    initial_backoff: float = 0.5
    max_backoff: float = 2.0
    backoff_multiplier: float = 1.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts counts the first try, so it must be >= 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ConfigurationError("initial_backoff and max_backoff must be >= 0 seconds")
        if self.backoff_multiplier <= 0:
            raise ConfigurationError(f"backoff_multiplier must be > 0, got {self.backoff_multiplier}")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number `retry` (1-based)."""
        return float(min(self.initial_backoff * self.backoff_multiplier ** (retry - 1), self.max_backoff))

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """A random wait in [0, ceiling(retry)] before retry number `retry`."""
        return (rng or random).uniform(0.0, self.ceiling(retry))
