"""What a test does to the emulator besides serving: faults, recorded requests, its own bugs.

:class:`Controls` holds the emulator's public knobs (errors, throttling, cuts,
stalls, bandwidth, failed fragments) and the record of the requests it got.
:class:`BugTrap` keeps an exception raised inside a request handler, a bug of
the test double: the emulator answers that request with a 500, then raises the
exception itself (original traceback) in the test, at the next call of its
Python API or at ``close()``, so that it is never mistaken for a flaky service
that botocore retries (as botocore's Stubber raises on a call it did not expect).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Optional, TypeVar

from kvarchive.testing._faults import Faults
from kvarchive.testing._server import RecordedRequest

__all__ = ["BugTrap", "Controls", "surfacing_bugs"]

_Class = TypeVar("_Class", bound=type)


class BugTrap:
    """The first exception raised inside a request handler, until the test is told (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bug: Optional[BaseException] = None

    def keep(self, error: BaseException) -> None:
        """Remember ``error`` (the first one wins: later ones usually follow from it)."""
        with self._lock:
            if self._bug is None:
                self._bug = error

    def raise_kept(self) -> None:
        """Raise the kept exception, once, with the traceback of where it happened."""
        with self._lock:
            bug, self._bug = self._bug, None
        if bug is not None:
            raise bug


def surfacing_bugs(cls: _Class) -> _Class:
    """Make every public method of ``cls`` (its bases' too) first raise a kept handler bug."""
    for base in reversed(cls.__mro__[:-1]):
        for name, value in vars(base).items():
            if callable(value) and not name.startswith("_") and name != "close":
                setattr(cls, name, _surfacing(value))
    return cls


def _surfacing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._bugs.raise_kept()
        return method(self, *args, **kwargs)

    return call


class Controls:
    """Fault injection and recorded requests: the emulator's test-facing knobs."""

    _faults: Faults
    _bugs: BugTrap

    def __init__(self) -> None:
        self._faults = Faults()
        self._bugs = BugTrap()
        self._requests_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    # -- recorded requests -----------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        self._bugs.raise_kept()
        with self._requests_lock:
            return list(self._requests)

    def count(self, operation: Optional[str] = None) -> int:
        """How many requests of ``operation`` (all when None) were received."""
        return sum(1 for r in self.requests if operation in (None, r.operation))

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._requests_lock:
            self._requests.clear()

    # -- fault injection -------------------------------------------------------

    def fail_next(
        self,
        operation: Optional[str],
        code: str = "InternalFailure",
        *,
        count: int = 1,
        status: Optional[int] = None,
        message: Optional[str] = None,
    ) -> None:
        """Answer the next ``count`` calls of ``operation`` (any when None) with an error."""
        self._faults.add_failure(operation, code, count=count, status=status, message=message)

    def throttle(self, operation: str, per_second: Optional[float]) -> None:
        """Allow ``per_second`` calls per (stream, operation); excess calls get
        ``ClientLimitExceededException``. None lifts the limit.
        """
        self._faults.set_rate(operation, per_second)

    @property
    def throttled_count(self) -> int:
        """How many calls were refused by :meth:`throttle` limits."""
        return self._faults.throttled_count

    def cut_next(
        self,
        operation: Optional[str],
        after_bytes: int,
        *,
        count: int = 1,
        framing: Optional[str] = None,
    ) -> None:
        """Drop the connection after ``after_bytes`` body bytes of the next ``count`` answers.

        ``framing`` overrides :attr:`body_framing` for those answers.
        """
        self._faults.add_cut(operation, after_bytes, count, framing)

    def stall_next(self, operation: Optional[str], seconds: float, *, count: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``count`` calls (for read timeouts)."""
        self._faults.add_stall(operation, seconds, count)

    def bandwidth(self, bytes_per_second: Optional[int]) -> None:
        """Cap every connection's body rate (None: unlimited)."""
        self._faults.set_bandwidth(bytes_per_second)

    def reset_faults(self) -> None:
        """Remove every injected fault, limit, failed fragment and the throttled count."""
        self._faults.reset()
