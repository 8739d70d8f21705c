"""Staying within the service's rates: a per-stream pacer and throttling retries.

botocore never retries ``ClientLimitExceededException`` (it is not in its
throttling list), so kvarchive keeps its own budget for it, and paces calls
per (stream, operation) so that threads sharing a client queue up locally
instead of being throttled by the service.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
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
    """Keeps each key to at most ``rate`` calls in any window of one second.

    A sliding window rather than even spacing: a few threads may start at
    once (parallel downloads), yet no second ever holds more calls than the
    service's per-stream rate. Callers reserve a slot under a lock and sleep
    outside it, so waiting threads are served in arrival order.
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # (calls, window seconds): 5/s is 5 per second; 0.5/s is 1 per two seconds.
        self._limits = {
            op: (math.ceil(rate), math.ceil(rate) / rate) for op, rate in rates.items() if rate > 0
        }
        self._recent: dict[tuple[Hashable, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self, stream: Hashable, operation: str) -> None:
        """Block until ``operation`` on ``stream`` may be called."""
        limit = self._limits.get(operation)
        if limit is None:
            return
        calls, window = limit
        with self._lock:
            now = self._clock()
            recent = self._recent.setdefault((stream, operation), deque(maxlen=calls))
            slot = now if len(recent) < calls else max(now, recent[0] + window)
            recent.append(slot)
        if slot > now:
            self._sleep(slot - now)
