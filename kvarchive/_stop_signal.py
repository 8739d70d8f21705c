"""``StopSignal``: one flag that stops work in progress at once, from any thread.

A thread blocked reading a response body does not see a flag: what it reads
from must be closed under it. Work registers what it reads from with
:meth:`StopSignal.closing`; :meth:`StopSignal.set` closes each, every one in a
thread of its own, since closing a body waits for a read in progress to
return. A signal can be registered with another, so that one set stops many
(an export's signal stops every shard's download).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol

from ._errors import KVArchiveError

__all__ = ["Closable", "StopSignal"]


class Closable(Protocol):
    """Anything with ``close()``: a MediaStream, another StopSignal."""

    def close(self) -> None: ...


class StopSignal:
    """Set once; then every registered ``Closable`` is closed and no new one may start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._open: set[Closable] = set()

    def is_set(self) -> bool:
        """True once :meth:`set` (or :meth:`close`) was called."""
        return self._set

    def set(self) -> None:
        """Stop: close everything registered, each in a daemon thread, and refuse new ones."""
        with self._lock:
            if self._set:
                return
            self._set = True
            registered, self._open = self._open, set()
        for item in registered:
            threading.Thread(
                target=_close, args=(item,), name="kvarchive-stop", daemon=True
            ).start()

    close = set  # a signal registered with another is stopped by it

    @contextlib.contextmanager
    def closing(self, item: Closable) -> Iterator[None]:
        """Have :meth:`set` close ``item`` while the block runs; KVArchiveError if set already."""
        with self._lock:
            if self._set:
                raise KVArchiveError("stopped before it started")
            self._open.add(item)
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(item)


def _close(item: Closable) -> None:
    # What is closed is being read by a thread that will fail on it, and say so there.
    with contextlib.suppress(Exception):
        item.close()
