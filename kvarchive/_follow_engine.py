"""What ``follow()`` does between fragments: polls ListFragments and releases fragments in order.

ListFragments is eventually consistent and unordered, so each poll lists a
window again and the engine decides what each listed fragment is:

- **New** (after the last delivered): held until a poll made ``settle``
  seconds after the one that first listed it, then released in timestamp
  order together with every held fragment before it. A fragment that shows
  up to ``settle`` seconds after a later one is thus still released in
  order. Not held: every fragment when ``settle`` is 0, and fragments stamped
  more than ``settle`` + 60 s before now, which have long been listable.
- **Late** (stamped before the last delivered, never delivered): it showed up
  more than ``settle`` seconds after later ones. Released at once, out of
  order, with a :class:`LateFragmentWarning`; never dropped silently. Late
  fragments are looked for ``settle`` + 30 s behind the last delivered (the
  state's ``since``); one stamped further back when it first shows up is not
  listed again.
- **Delivered** or outside ``[since, until)``: skipped.

Polls fall on a grid every ``poll`` seconds; a hold that ends between grid
points gets a poll of its own, so a fragment is released about ``settle`` +
``poll / 2`` after it shows up. An idle stream costs one call per poll. Each
poll lists ``[since, now]`` in one query (more pages only when one is full),
paced by the client's per-stream rate limiter. ``now`` is this machine's
clock, never later: other Kinesis Video APIs refuse server timestamps in the
future, and a fragment is listable only once whole, after its (start)
timestamp. Far behind (a start or a checkpoint far back), it lists windows
one after the other without waiting, narrowing a window that fills more than
four pages, so memory stays bounded. With ``until``, windows end there, and
from the first poll at or after ``until + settle`` (this machine's clock) the
iteration ends as soon as nothing is held, at the latest two polls later (for
an ``until`` already past: ``settle`` and two polls after the first poll). A
fragment still held then is not released before its time, which could put it
before a fragment listed a moment later: it is left for the next run, as on
``close()``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from ._errors import InvalidArgumentError, LateFragmentWarning
from ._follow_state import FollowState, Key
from ._models import Fragment
from ._service import LIST_MAX_RESULTS

__all__ = ["FollowEngine", "PageLister"]

log = logging.getLogger("kvarchive")

PageLister = Callable[[datetime, datetime], Iterator[list[Fragment]]]
"""ListFragments over [start, end] (inclusive), page by page, in service order."""

LOOKBACK_EXTRA = timedelta(seconds=30)
SETTLED_AFTER = timedelta(seconds=60)
FIRST_WINDOW = timedelta(minutes=10)
MIN_WINDOW = timedelta(seconds=1)
MAX_WINDOW = timedelta(days=7)
MAX_PAGES = 4
_EPSILON = 0.001  # seconds: polls this close count as one


class _Held:
    """A new fragment waiting until ``ready`` (monotonic seconds) for earlier ones to show up."""

    __slots__ = ("fragment", "key", "ready")

    def __init__(self, fragment: Fragment, key: Key, ready: float) -> None:
        self.fragment = fragment
        self.key = key
        self.ready = ready


class FollowEngine:
    """Releases the fragments of one stream in order, polling as needed (see the module).

    ``save`` receives the state's JSON after each delivered fragment. Not
    thread-safe, except :meth:`stop`, which any thread or signal handler may
    call: a poll wait ends at once.
    """

    def __init__(
        self,
        pages: PageLister,
        state: FollowState,
        *,
        save: Optional[Callable[[str], None]],
        poll: float,
        settle: float,
        until: Optional[datetime],
    ) -> None:
        self.state = state
        self._pages = pages
        self._save = save
        self._poll = poll
        self._settle = settle
        self._lookback = timedelta(seconds=settle) + LOOKBACK_EXTRA
        self._until = until
        self._deadline: Optional[float] = None
        if until is not None:
            left = until + timedelta(seconds=settle) - datetime.now(timezone.utc)
            self._deadline = time.monotonic() + left.total_seconds()
        self._stop = threading.Event()
        self._held: dict[str, _Held] = {}
        self._ready: deque[Fragment] = deque()
        self._scanned: Optional[datetime] = None
        self._window = FIRST_WINDOW
        self._behind = True  # the first poll is made at once
        self._origin = 0.0
        self._last_poll: Optional[float] = None
        self._finished = False

    # -- the consumer's side -----------------------------------------------------------

    def stop(self) -> None:
        """End the iteration: the next :meth:`next_ready` (or the one waiting) returns nothing."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def next_ready(self, limit: int) -> list[Fragment]:
        """Up to ``limit`` released fragments, in order, polling until there are some.

        Empty when the iteration is over: ``until`` reached, or stopped.
        """
        while not self._stop.is_set():
            if self._ready:
                return [self._ready.popleft() for _ in range(min(limit, len(self._ready)))]
            if self._finished:
                break
            at = self._wait_for_poll()
            if at is None:
                break
            self._poll_at(at)
        return []

    def delivered(self, fragment: Fragment) -> None:
        """Record that the consumer has taken ``fragment``, and save the state."""
        self.state.deliver(fragment, self._lookback)
        self.save()

    def save(self) -> None:
        """Hand the state to the checkpoint, if there is one."""
        if self._save is not None:
            self._save(self.state.to_json())

    # -- polling -------------------------------------------------------------------------

    def _wait_for_poll(self) -> Optional[float]:
        """Sleep until the next poll is due and return its time; None if stopped meanwhile."""
        now = time.monotonic()
        due = now if self._behind else self._next_due()
        if due <= now:
            return now
        return None if self._stop.wait(due - now) else due

    def _next_due(self) -> float:
        """The next grid point, or an earlier end of a hold or of the ``until`` deadlines."""
        last = self._last_poll
        assert last is not None
        steps = math.floor((last - self._origin) / self._poll + 1e-6) + 1
        due = self._origin + steps * self._poll
        ends = [held.ready for held in self._held.values()]
        if self._deadline is not None:
            ends += [self._deadline, self._latest_end()]
        for end in ends:
            if last + _EPSILON < end < due - _EPSILON:
                due = end
        return due

    def _poll_at(self, at: float) -> None:
        """One poll at monotonic time ``at``: list, sort out, release what is due."""
        if self._last_poll is None:
            self._origin = at
        self._last_poll = at
        now = datetime.now(timezone.utc)
        since = self.state.since
        base = max(self._scanned or since, since)
        end = self._limit(min(now, base + self._window), since)
        listed, end = self._list(since, end, base, now)
        self._scanned = end
        reached_until = self._until is not None and end >= self._until
        self._behind = end < now and not reached_until
        settled_before = now - timedelta(seconds=self._settle) - SETTLED_AFTER
        late = []
        for fragment in listed:
            stamp = self.state.timestamp(fragment)
            if self._until is not None and stamp >= self._until:
                continue
            if self.state.is_new(fragment):
                if fragment.number not in self._held:
                    hold = 0.0 if stamp < settled_before else self._settle
                    key = self.state.key(fragment)
                    self._held[fragment.number] = _Held(fragment, key, at + hold)
            elif self.state.is_late(fragment):
                late.append(fragment)
        for fragment in sorted(late, key=self.state.key):
            self._warn_late(fragment)
            self._ready.append(fragment)
        for held in sorted(self._held.values(), key=lambda h: h.key):
            if held.ready > at + _EPSILON:
                break
            del self._held[held.fragment.number]
            self._ready.append(held.fragment)
        if reached_until and self._deadline is not None and at + _EPSILON >= self._deadline:
            # What is still held at the latest end is left for the next run (never delivered).
            self._finished = not self._held or at + _EPSILON >= self._latest_end()

    def _latest_end(self) -> float:
        """When an iteration with ``until`` ends at the latest (monotonic seconds)."""
        assert self._deadline is not None
        return max(self._deadline, self._origin + self._settle) + 2 * self._poll

    def _limit(self, end: datetime, since: datetime) -> datetime:
        """``end`` kept within ``until`` and not before ``since``."""
        if self._until is not None:
            end = min(end, self._until)
        return max(end, since)

    def _list(
        self, since: datetime, end: datetime, base: datetime, now: datetime
    ) -> tuple[list[Fragment], datetime]:
        """Every fragment stamped in ``[since, end]`` and the end actually listed.

        A window behind the live edge that fills more than MAX_PAGES pages is
        narrowed and listed again; one the stream's retention has passed is
        skipped with a warning.
        """
        while True:
            narrowable = end < now and self._window > MIN_WINDOW
            listed: list[Fragment] = []
            try:
                for count, page in enumerate(self._pages(since, end), 1):
                    listed.extend(page)
                    if narrowable and count >= MAX_PAGES:
                        break
                else:
                    self._adapt(len(listed))
                    return listed, end
            except InvalidArgumentError as exc:
                if "retention" not in exc.message.lower() or end >= now - SETTLED_AFTER:
                    raise
                self._warn_expired(since, end, exc.message)
                self._window = min(MAX_WINDOW, self._window * 2)
                return [], end
            self._window = max(MIN_WINDOW, self._window / 2)
            end = self._limit(base + self._window, since)
            log.debug("follow: narrowing the window to %s", self._window)

    def _adapt(self, count: int) -> None:
        """Widen a window that held few fragments, narrow one that needed several pages."""
        if count > LIST_MAX_RESULTS:
            self._window = max(MIN_WINDOW, self._window / 2)
        elif count < LIST_MAX_RESULTS // 4:
            self._window = min(MAX_WINDOW, self._window * 2)

    # -- warnings (stacklevel: the consumer's loop, through next_ready and Follower.__next__) --

    def _warn_late(self, fragment: Fragment) -> None:
        stamp = self.state.timestamp(fragment).isoformat()
        warnings.warn(
            f"fragment {fragment.number} ({stamp}) was listed more than settle={self._settle}s "
            "after later fragments had been yielded: it is yielded now, out of order",
            LateFragmentWarning,
            stacklevel=6,
        )

    def _warn_expired(self, since: datetime, end: datetime, message: str) -> None:
        warnings.warn(
            f"fragments stamped from {since.isoformat()} to {end.isoformat()} are past the "
            f"stream's retention and cannot be followed (ListFragments: {message})",
            LateFragmentWarning,
            stacklevel=7,
        )
