"""What a range holds: the spans of stored media and the gaps between them.

Fragments are merged into spans as they arrive, in any order (ListFragments
returns them unordered, even across pages), so a day of 2 s fragments
(43,200 of them) costs the memory of its spans, not of its fragments. Two
fragments belong to one span when the time between them is at most the
duration of the fragment before: a *gap* is more than a fragment's duration
without a fragment. The range's edges count too: time before the first
fragment (or after the last) longer than that fragment's duration is a gap.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Optional, Union

import attrs

from ._models import Fragment
from ._times import compact_seconds, compact_time, from_epoch_ms, to_epoch_ms

__all__ = ["Gap", "Span", "Timeline", "build_timeline"]

_BAR_COLUMNS = 64


@attrs.frozen
class _Part:
    """A stretch of the range, from ``start`` to ``end``."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """How long it lasts."""
        return self.end - self.start


@attrs.frozen
class Gap(_Part):
    """More than a fragment's duration without a fragment."""


@attrs.frozen
class Span(_Part):
    """Stored media without a gap: from the first fragment's start to the last one's end."""

    fragment_count: int
    size: int


@attrs.define
class _Run:
    """A span being built, in epoch ms: ``reach`` is where a following fragment may start
    and still join it (its end plus its last fragment's duration, the furthest of its fragments)."""

    start: int
    end: int
    reach: int
    first_duration: int
    last_duration: int
    count: int
    size: int


class _Merger:
    """Fragments merged into disjoint runs kept sorted by start; fragments come in any order."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.runs: list[_Run] = []

    def add(self, start: int, duration: int, size: int) -> None:
        end = start + duration
        new = _Run(start, end, end + duration, duration, duration, 1, size)
        # A run joins the fragment when [run.start, run.reach] meets [start, new.reach]; runs
        # are disjoint in that sense, so the runs it meets are consecutive, ending before `last`.
        last = bisect.bisect_right(self.starts, new.reach)
        first = last
        while first > 0 and self.runs[first - 1].reach >= start:
            first -= 1
        for run in self.runs[first:last]:
            new = _joined(run, new)
        self.runs[first:last] = [new]
        self.starts[first:last] = [new.start]


def _joined(a: _Run, b: _Run) -> _Run:
    first = a if a.start <= b.start else b
    last = a if a.end >= b.end else b
    return _Run(
        start=first.start,
        end=last.end,
        reach=max(a.reach, b.reach),
        first_duration=first.first_duration,
        last_duration=last.last_duration,
        count=a.count + b.count,
        size=a.size + b.size,
    )


class Timeline:
    """The stored spans and the gaps of a time range, as ``FragmentPager.timeline()`` finds them.

    Jupyter shows it as HTML with an inline SVG drawing (times on the axis)
    and the spans and gaps listed in a table; ``str()`` is the same as text.
    ``start`` and ``end`` are the range asked for; ``spans`` and ``gaps``
    are in time order.
    """

    def __init__(
        self,
        *,
        start: datetime,
        end: datetime,
        timestamp_type: str,
        spans: Iterable[Span],
        gaps: Iterable[Gap],
    ) -> None:
        self.start = start
        self.end = end
        self.timestamp_type = timestamp_type
        self.spans = tuple(spans)
        self.gaps = tuple(gaps)

    @property
    def fragment_count(self) -> int:
        """How many fragments the range holds."""
        return sum(span.fragment_count for span in self.spans)

    @property
    def stored(self) -> timedelta:
        """How much time the spans cover."""
        return sum((span.duration for span in self.spans), timedelta())

    @property
    def missing(self) -> timedelta:
        """How much time the gaps cover."""
        return sum((gap.duration for gap in self.gaps), timedelta())

    @property
    def extent(self) -> tuple[datetime, datetime]:
        """What a drawing shows: the range, widened to the spans (the last may end after it)."""
        first = min([self.start, *(s.start for s in self.spans[:1])])
        last = max([self.end, *(s.end for s in self.spans[-1:])])
        return first, last

    def parts(self) -> Iterator[Union[Span, Gap]]:
        """Spans and gaps together, in time order."""
        return heapq.merge(self.spans, self.gaps, key=lambda part: part.start)

    def summary(self) -> str:
        """One sentence: the range, and what it holds."""
        kind = "producer" if self.timestamp_type == "PRODUCER_TIMESTAMP" else "server"
        return (
            f"{compact_time(self.start)} to {compact_time(self.end)} ({kind} timestamps): "
            f"{self.fragment_count} fragment(s) in {len(self.spans)} span(s) "
            f"({compact_seconds(self.stored)} stored), "
            f"{len(self.gaps)} gap(s) ({compact_seconds(self.missing)} missing)"
        )

    def bar(self, columns: int = _BAR_COLUMNS) -> str:
        """The range drawn in text: ``#`` stored, ``.`` a gap, a space neither."""
        first, last = self.extent
        total = max(1, to_epoch_ms(last) - to_epoch_ms(first))
        cells = [" "] * columns
        for mark, parts in ((".", self.gaps), ("#", self.spans)):
            for part in parts:
                begin = (to_epoch_ms(part.start) - to_epoch_ms(first)) * columns // total
                finish = -(-(to_epoch_ms(part.end) - to_epoch_ms(first)) * columns // total)
                for column in range(begin, max(begin + 1, finish)):
                    cells[min(column, columns - 1)] = mark
        return "|" + "".join(cells) + "|"

    def __str__(self) -> str:
        lines = [self.summary(), self.bar()]
        for part in self.parts():
            kind = "stored" if isinstance(part, Span) else "gap"
            line = (
                f"{kind:<6}  {compact_time(part.start)}  {compact_time(part.end)}  "
                f"{compact_seconds(part.duration):>12}"
            )
            if isinstance(part, Span):
                line += f"  {part.fragment_count} fragment(s)"
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Timeline {compact_time(self.start)} to {compact_time(self.end)}: "
            f"{len(self.spans)} span(s), {len(self.gaps)} gap(s), "
            f"{self.fragment_count} fragment(s)>"
        )

    def _repr_html_(self) -> str:
        from ._timeline_html import timeline_html

        return timeline_html(self)


def build_timeline(
    fragments: Iterable[Fragment],
    *,
    timestamp_type: str,
    start: Optional[datetime],
    end: Optional[datetime],
) -> Timeline:
    """Merge ``fragments`` (any order) into the spans and gaps of ``[start, end]``.

    Without a range, the timeline spans the fragments found.
    """
    producer = timestamp_type == "PRODUCER_TIMESTAMP"
    merger = _Merger()
    for fragment in fragments:
        stamp = fragment.producer_timestamp if producer else fragment.server_timestamp
        duration = fragment.duration // timedelta(milliseconds=1)
        merger.add(to_epoch_ms(stamp), duration, fragment.size)
    runs = merger.runs
    first = to_epoch_ms(start) if start is not None else runs[0].start if runs else 0
    last = to_epoch_ms(end) if end is not None else runs[-1].end if runs else first
    holes: list[tuple[int, int]] = []
    if not runs:
        holes.append((first, last))
    else:
        if runs[0].start - first > runs[0].first_duration:
            holes.append((first, runs[0].start))
        holes += [(a.end, b.start) for a, b in zip(runs, runs[1:])]
        if last - runs[-1].end > runs[-1].last_duration:
            holes.append((runs[-1].end, last))
    return Timeline(
        start=from_epoch_ms(first),
        end=from_epoch_ms(last),
        timestamp_type=timestamp_type,
        spans=(Span(from_epoch_ms(r.start), from_epoch_ms(r.end), r.count, r.size) for r in runs),
        gaps=(Gap(from_epoch_ms(a), from_epoch_ms(b)) for a, b in holes if b > a),
    )
