"""A stream that grows in real time, with the service's late and out-of-order listing.

A camera's producer sends one fragment after another; the service stamps each
with the time it began to arrive, and ListFragments shows it once it is
complete and persisted, which is eventually consistent: usually well under a
second later, sometimes after fragments that came after it.
:class:`Producer` plays that on an emulated stream, so that followers can be
tested against it.
"""

from __future__ import annotations

import heapq
import threading
from types import TracebackType
from typing import Callable, Optional, Union

from kvarchive.testing._seeded import mixed_seed, rng
from kvarchive.testing._streams import EmulatedStream, FragmentRecord

__all__ = ["Producer", "Producers", "VisibilityDelay"]

VisibilityDelay = Union[float, tuple[float, float]]
"""Seconds from a fragment's end until ListFragments lists it: fixed, or (low, high) drawn."""

# The thread checks the clock at least this often (seconds), so a test clock moved by hand is seen.
_TICK = 0.05


class Producer:
    """Adds fragments to one emulated stream as its producer would, in a background thread.

    Fragments continue the stream's timeline (its numbers, durations and
    media). Each is complete when its duration has passed on the emulator's
    clock (server timestamp + duration) and is listed ``visibility_delay``
    seconds later: a number, or ``(low, high)`` for a delay drawn per fragment
    (seeded), so that with ``high - low`` above the fragment duration some
    fragments are listed after later ones. A stream that ends in the past first
    catches up, all at once. :meth:`stop` (or the emulator's ``close()``) ends it.
    """

    def __init__(
        self,
        stream: EmulatedStream,
        *,
        clock: Callable[[], float],
        visibility_delay: VisibilityDelay = 0.0,
        seed: int = 0,
    ) -> None:
        low, high = _delay_bounds(visibility_delay)
        if stream.next_fragment is None or not stream.fragments:
            raise ValueError(f"stream {stream.name!r} cannot grow: it needs a first fragment")
        self.stream = stream
        self._clock = clock
        self._low, self._high = low, high
        self._random = rng(seed, 40)
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._visible: list[tuple[FragmentRecord, float]] = []
        self._last = max(stream.fragments, key=lambda f: f.index)
        self._thread = threading.Thread(
            target=self._run, name=f"kvarchive-producer-{stream.name}", daemon=True
        )
        self._thread.start()

    # -- what it did -----------------------------------------------------------------

    @property
    def visible(self) -> list[tuple[FragmentRecord, float]]:
        """Each fragment listed so far, with the clock time it became listable, in that order."""
        with self._changed:
            return list(self._visible)

    def wait_visible(self, count: int, timeout: float) -> bool:
        """Block until ``count`` fragments have become listable; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._visible) >= count, timeout)

    # -- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop producing (idempotent); fragments not yet listed never will be."""
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def running(self) -> bool:
        """True until stopped."""
        return not self._stopping.is_set()

    def __enter__(self) -> Producer:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "producing" if self.running else "stopped"
        delay = f"{self._low}" if self._low == self._high else f"{self._low}-{self._high}"
        return f"<Producer {self.stream.name!r} {state}, listed after {delay}s>"

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        assert self.stream.next_fragment is not None
        make = self.stream.next_fragment
        upcoming = make(self._last)
        pending: list[tuple[float, int, FragmentRecord]] = []  # (listable at, index, fragment)
        while not self._stopping.is_set():
            now = self._clock()
            complete_at = (upcoming.server_ms + upcoming.duration_ms) / 1000
            if complete_at <= now:
                delay = self._random.uniform(self._low, self._high)
                heapq.heappush(pending, (complete_at + delay, upcoming.index, upcoming))
                upcoming = make(upcoming)
                continue
            due = []
            while pending and pending[0][0] <= now:
                due.append(heapq.heappop(pending)[2])
            if due:
                self.stream.reveal(due)
                with self._changed:
                    self._visible.extend((fragment, now) for fragment in due)
                    self._changed.notify_all()
            following = min(complete_at, pending[0][0]) if pending else complete_at
            self._stopping.wait(min(max(following - now, 0.0), _TICK))


class Producers:
    """The producers of one emulator: at most one running per stream, all stopped with it."""

    def __init__(self, clock: Callable[[], float], seed: int) -> None:
        self._clock = clock
        self._seed = seed
        self._lock = threading.Lock()
        self._running: dict[str, Producer] = {}

    def start(
        self, stream: EmulatedStream, visibility_delay: VisibilityDelay, seed: Optional[int]
    ) -> Producer:
        """A new Producer of ``stream`` (seeded from the emulator's seed and the stream's name
        unless ``seed`` is given); ValueError if one is producing it already."""
        with self._lock:
            running = self._running.get(stream.name)
            if running is not None and running.running:
                raise ValueError(f"stream {stream.name!r} is already producing")
            producer = Producer(
                stream,
                clock=self._clock,
                visibility_delay=visibility_delay,
                seed=mixed_seed(self._seed, stream.name) if seed is None else seed,
            )
            self._running[stream.name] = producer
        return producer

    def stop(self) -> None:
        """Stop every producer and join its thread."""
        with self._lock:
            producers = list(self._running.values())
        for producer in producers:
            producer.stop()


def _delay_bounds(delay: VisibilityDelay) -> tuple[float, float]:
    """``(low, high)`` of a visibility delay, checked."""
    low, high = delay if isinstance(delay, tuple) else (delay, delay)
    if not 0 <= low <= high:
        raise ValueError(f"visibility_delay must be seconds >= 0, or (low, high): {delay!r}")
    return float(low), float(high)
