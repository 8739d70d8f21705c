"""Fault injection state of the emulator: errors, throttling, cuts, stalls, bandwidth, and
fragments served as error chunks.

All methods are thread-safe; every request consults this once per fault kind.
"""

from __future__ import annotations

import threading
import time
from typing import Optional, Protocol, TypeVar

import attrs

__all__ = ["ERROR_STATUS", "FRAMINGS", "Cut", "Failure", "Faults"]

FRAMINGS = ("chunked", "length", "close")

ERROR_STATUS = {
    "InvalidArgumentException": 400,
    "ClientLimitExceededException": 400,
    "NoDataRetentionException": 400,
    "UnsupportedStreamMediaTypeException": 400,
    "MissingCodecPrivateDataException": 400,
    "InvalidCodecPrivateDataException": 400,
    "InvalidMediaFrameException": 400,
    "SerializationException": 400,
    "NotAuthorizedException": 401,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
}
"""HTTP status the service uses for each error code (others: 400)."""


@attrs.define
class Failure:
    """An error to answer instead of the real response."""

    operation: Optional[str]
    code: str
    status: int
    message: str
    remaining: int


@attrs.define
class Cut:
    """Drop the connection after ``after_bytes`` bytes of body."""

    operation: Optional[str]
    after_bytes: int
    remaining: int
    framing: Optional[str]


@attrs.define
class _Stall:
    operation: Optional[str]
    seconds: float
    remaining: int


def _matches(wanted: Optional[str], operation: str) -> bool:
    return wanted is None or wanted == operation


class Faults:
    """The queue of injected faults and the throttling buckets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[Failure] = []
        self._cuts: list[Cut] = []
        self._stalls: list[_Stall] = []
        self._rates: dict[str, float] = {}
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.throttled_count = 0
        self.bandwidth: Optional[int] = None
        self._failed_fragments: dict[tuple[str, str], tuple[str, str]] = {}

    def reset(self) -> None:
        """Forget every injected fault and the throttled count."""
        with self._lock:
            self._failures.clear()
            self._cuts.clear()
            self._stalls.clear()
            self._rates.clear()
            self._buckets.clear()
            self.throttled_count = 0
            self.bandwidth = None
            self._failed_fragments.clear()

    def add_failure(
        self,
        operation: Optional[str],
        code: str,
        *,
        count: int,
        status: Optional[int],
        message: Optional[str],
    ) -> None:
        """Answer the next ``count`` calls of ``operation`` with an error (status from its code)."""
        failure = Failure(
            operation,
            code,
            status if status is not None else ERROR_STATUS.get(code, 400),
            message if message is not None else f"Injected {code}",
            count,
        )
        with self._lock:
            self._failures.append(failure)

    def add_cut(
        self, operation: Optional[str], after_bytes: int, count: int, framing: Optional[str]
    ) -> None:
        """Drop the connection after ``after_bytes`` body bytes of the next ``count`` answers."""
        if after_bytes < 0:
            raise ValueError("after_bytes must not be negative")
        if framing is not None and framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}")
        with self._lock:
            self._cuts.append(Cut(operation, after_bytes, count, framing))

    def add_stall(self, operation: Optional[str], seconds: float, count: int) -> None:
        with self._lock:
            self._stalls.append(_Stall(operation, seconds, count))

    def set_rate(self, operation: str, per_second: Optional[float]) -> None:
        """Throttle (stream, ``operation``) to ``per_second`` calls (None lifts the limit)."""
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive")
        with self._lock:
            if per_second is None:
                self._rates.pop(operation, None)
            else:
                self._rates[operation] = per_second
            for key in [k for k in self._buckets if k[1] == operation]:
                del self._buckets[key]

    def set_bandwidth(self, bytes_per_second: Optional[int]) -> None:
        """Cap every connection's body rate (None: unlimited)."""
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        self.bandwidth = bytes_per_second

    def fail_fragment(self, stream: str, number: str, code: str, message: str) -> None:
        """Serve fragment ``number`` of ``stream`` as an error chunk of ``code`` and ``message``."""
        if not number.isdigit():
            raise ValueError(f"a fragment number is decimal digits, got {number!r}")
        with self._lock:
            self._failed_fragments[stream, number] = (code, message)

    def fragment_failure(self, stream: str, number: str) -> Optional[tuple[str, str]]:
        """The (code, message) fragment ``number`` of ``stream`` is served as, or None."""
        with self._lock:
            return self._failed_fragments.get((stream, number))

    def take_failure(self, operation: str) -> Optional[Failure]:
        """The next queued failure for ``operation``, consuming one use of it."""
        with self._lock:
            return _take(self._failures, operation)

    def take_cut(self, operation: str) -> Optional[Cut]:
        """The next queued cut for ``operation``, consuming one use of it."""
        with self._lock:
            return _take(self._cuts, operation)

    def take_stall(self, operation: str) -> float:
        """Seconds to wait before answering ``operation`` (0 if none queued)."""
        with self._lock:
            stall = _take(self._stalls, operation)
            return stall.seconds if stall else 0.0

    def throttled(self, stream: str, operation: str) -> bool:
        """Whether this call exceeds the token bucket of (stream, operation)."""
        with self._lock:
            rate = self._rates.get(operation)
            if rate is None:
                return False
            now = time.monotonic()
            capacity = max(1.0, rate)
            tokens, last = self._buckets.get((stream, operation), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[stream, operation] = (tokens - 1.0, now)
                return False
            self._buckets[stream, operation] = (tokens, now)
            self.throttled_count += 1
            return True


class _Queued(Protocol):
    operation: Optional[str]
    remaining: int


_Q = TypeVar("_Q", bound=_Queued)


def _take(queue: list[_Q], operation: str) -> Optional[_Q]:
    for item in queue:
        if _matches(item.operation, operation):
            item.remaining -= 1
            if item.remaining <= 0:
                queue.remove(item)
            return item
    return None
