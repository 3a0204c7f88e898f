"""The retry delay of attempt n is random in [0, min(initial_backoff * multiplier**(n-1), max_backoff)]."""

from __future__ import annotations

import random

import pytest

from flowql import ConfigurationError
from flowql.client import RetryPolicy


def test_delay_stays_within_the_documented_bounds() -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.5, max_backoff=2, backoff_multiplier=1.5)
    rng = random.Random(7)
    for retry, ceiling in [(1, 0.5), (2, 0.75), (3, 1.125), (4, 1.6875), (5, 2.0), (9, 2.0)]:
        assert policy.ceiling(retry) == pytest.approx(ceiling)
        delays = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        # Jittered over the whole range, not a fixed wait.
        assert max(delays) > 0.8 * ceiling and min(delays) < 0.2 * ceiling


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError):
        RetryPolicy(initial_backoff=-1)
