"""Staying within the service's rates: a per-stream pacer and throttling retries.

botocore never retries ``ClientLimitExceededException`` (it is not in its
throttling list), so kvarchive keeps its own budget for it, and paces calls
per (stream, operation) so that threads sharing a client queue up locally
instead of being throttled by the service.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Hashable, Iterator, Mapping
from typing import Callable

import attrs

__all__ = ["SERVICE_RATES", "Backoff", "RateLimiter"]

# Per-stream rates (calls per second) from the Kinesis Video Streams quotas page.
SERVICE_RATES: Mapping[str, float] = {
    "GetDataEndpoint": 5.0,
    "ListFragments": 5.0,
    "GetMediaForFragmentList": 5.0,
    "GetClip": 5.0,
    "GetImages": 5.0,
    "GetHLSStreamingSessionURL": 25.0,
    "GetDASHStreamingSessionURL": 25.0,
}


@attrs.frozen
class Backoff:
    """How often and how patiently ``ClientLimitExceededException`` is retried.

    ``attempts`` counts the first call too (1 disables retries). Delays grow as
    ``base * 2**n`` up to ``cap`` seconds, with full jitter.
    """

    attempts: int = attrs.field(default=6, validator=attrs.validators.ge(1))
    base: float = attrs.field(default=0.1, validator=attrs.validators.ge(0))
    cap: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))

    def delays(self) -> Iterator[float]:
        """The pauses before each retry: ``attempts - 1`` of them."""
        for n in range(self.attempts - 1):
            yield random.uniform(0, min(self.cap, self.base * 2**n))  # noqa: S311 - jitter, not crypto


class RateLimiter:
    """Spaces calls with the same key at least ``1/rate`` seconds apart.

    Callers reserve the next free slot under a lock and sleep outside it, so
    waiting threads are served in arrival order without holding anything.
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._intervals = {op: 1.0 / rate for op, rate in rates.items() if rate > 0}
        self._next_free: dict[tuple[Hashable, str], float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self, stream: Hashable, operation: str) -> None:
        """Block until ``operation`` on ``stream`` may be called."""
        interval = self._intervals.get(operation)
        if interval is None:
            return
        key = (stream, operation)
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(key, now))
            self._next_free[key] = slot + interval
        if slot > now:
            self._sleep(slot - now)
