"""Which GetImages requests fetch the images of a range, none twice and none missing.

GetImages samples ``StartTimestamp + k * SamplingInterval`` up to
``EndTimestamp``, both ends included, over at most 300 s per request, and
draws only on fragments that *start* within the request's range: an instant
inside a fragment that began before ``StartTimestamp`` comes back ``NO_MEDIA``
(the service team's answer in boto/boto3#3712: start earlier). Cutting a long
range into back-to-back windows would therefore lose the instants after every
cut, up to the next fragment, and asking for hours without media costs a call
per 25 empty samples.

So every range is planned from what is stored (one ListFragments sweep
from 300 s before ``start``, see :func:`stored_fragments`): only instants
that a stored fragment covers are requested; each request starts on the
sampling grid (``start - n * interval``, before ``start`` when the fragment
holding the first instant began before it) at or before the start of the
fragment covering its first instant, so the service uses that fragment; a
request ends before a fragment whose instants it cannot all reach, so the
next one repeats at most an instant; and what a request repeats, or asks before ``start``, is
dropped. The instants asked for and not yielded are thus at most
``ceil(fragment duration / interval)`` a request. Every instant where media
is stored gets its image, with two limits: an instant more than 300 s after
the start of its fragment (a fragment that long) is out of reach of any
request, and ListFragments is eventually consistent, so media stored in the
last second or so before the sweep may be missed (a request that ends within
a page of the range's end goes on to it, which recovers those).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Callable, Optional, Union

import attrs

from ._models import Fragment
from ._service import IMAGES_MAX_SPAN_MS as MAX_SPAN_MS
from ._service import IMAGES_MIN_INTERVAL_MS as _MIN_INTERVAL
from ._times import EPOCH
from ._times import from_epoch_ms as from_ms

__all__ = [
    "MAX_SPAN_MS",
    "EmptyRun",
    "ImageRequest",
    "ListPage",
    "SamplingGrid",
    "from_ms",
    "plan_requests",
    "stored_fragments",
    "to_ms",
]

# A request may run on over this many instants without media (a page's worth,
# pages hold at most 25 images) rather than end and cost a new request.
_GAP_LIMIT = 25

_MS = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime, rounded to the nearest."""
    return round((value - EPOCH) / _MS)


@attrs.frozen
class SamplingGrid:
    """The instants ``start + k * interval`` up to ``end`` (milliseconds, both included)."""

    start: int
    end: int
    interval: int

    @property
    def last_index(self) -> int:
        """The index of the last instant."""
        return (self.end - self.start) // self.interval

    def instant(self, index: int) -> int:
        """The instant of ``index``."""
        return self.start + index * self.interval

    def index_at_or_after(self, ms: int) -> int:
        """The first index whose instant is at or after ``ms``."""
        return max(0, -(-(ms - self.start) // self.interval))

    def index_at_or_before(self, ms: int) -> int:
        """The last index whose instant is at or before ``ms`` (negative if none)."""
        return (min(ms, self.end) - self.start) // self.interval


@attrs.frozen
class ImageRequest:
    """One GetImages request, and which of its instants (``first``..``last``) are new."""

    start: int
    end: int
    interval: int
    first: int
    last: int

    def keeps(self, ms: int) -> bool:
        """Whether an image at ``ms`` is one this request is for."""
        return self.first <= ms <= self.last


@attrs.frozen
class EmptyRun:
    """Instants (indices ``first``..``last``) that no stored fragment covers: NO_MEDIA."""

    first: int
    last: int


Step = Union[ImageRequest, EmptyRun]


def plan_requests(grid: SamplingGrid, spans: Iterable[tuple[int, int]]) -> Iterator[Step]:
    """The requests and empty runs that cover every instant of ``grid`` once, in order.

    ``spans`` are the stored fragments as ``(start, end)`` milliseconds, in
    order of start, each starting within the grid's range or at most 300 s
    before it. A request goes on over a short gap (a page of empty instants
    at most) rather than end, and over a short tail to the range's end.
    """
    following = 0  # the first index neither requested nor known to be empty
    pending: Optional[tuple[int, int, int]] = None  # open request: start, first, last index
    for span_start, span_end in spans:
        low = max(grid.index_at_or_after(span_start), following)
        high = grid.index_at_or_before(span_end)
        if low > high:
            continue
        if pending is not None:
            start, first, last = pending
            reach = grid.index_at_or_before(start + MAX_SPAN_MS)
            if span_start >= start and high <= reach and low - last - 1 <= _GAP_LIMIT:
                pending = (start, first, high)
                following = high + 1
                continue
            # The span does not fit whole: end before it, so that the next request, which
            # begins at its start, repeats at most the one instant just before it.
            yield _request(grid, *pending)
            pending = None
        if low > following:
            yield EmptyRun(following, low - 1)
        while low <= high:
            lead_in = _lead_in(grid, span_start, low)
            if lead_in is None:
                yield _alone(grid, span_start, low)
                following = low = low + 1
                continue
            reach = grid.index_at_or_before(lead_in + MAX_SPAN_MS)
            if high <= reach:
                pending = (lead_in, low, high)
                following = high + 1
                break
            yield _request(grid, lead_in, low, reach)
            following = low = reach + 1
    if pending is not None:
        start, first, last = pending
        if (
            grid.last_index - last <= _GAP_LIMIT
            and grid.instant(grid.last_index) <= start + MAX_SPAN_MS
        ):
            # A short tail goes with the last request: media stored just before the listing
            # (which ListFragments may not show yet) still gives its images.
            pending = (start, first, grid.last_index)
            following = grid.last_index + 1
        yield _request(grid, *pending)
    if following <= grid.last_index:
        yield EmptyRun(following, grid.last_index)


def _lead_in(grid: SamplingGrid, fragment_start: int, index: int) -> Optional[int]:
    """The last instant at or before the fragment's start, if ``index`` is in reach of it.

    It lies before the range's start when the fragment began before it: on the
    grid all the same (``start - n * interval``), its instants dropped.
    """
    start = grid.instant(grid.index_at_or_before(fragment_start))
    return start if grid.instant(index) - start <= MAX_SPAN_MS else None


def _request(grid: SamplingGrid, start: int, first: int, last: int) -> ImageRequest:
    """A request from ``start`` for the instants ``first``..``last``, never of zero width."""
    last_instant = grid.instant(last)
    end = min(grid.end, start + MAX_SPAN_MS, last_instant + grid.interval - 1)
    if end == start:
        # Only the range's last instant, alone: begin one instant earlier (or end 1 ms later).
        if start - grid.interval >= grid.start and grid.interval <= MAX_SPAN_MS:
            start -= grid.interval
        else:
            end = start + 1
    return ImageRequest(start, end, grid.interval, grid.instant(first), last_instant)


def _alone(grid: SamplingGrid, fragment_start: int, index: int) -> ImageRequest:
    """A request for one instant that no instant of the grid within 300 s before it can lead to.

    (Instants more than 300 s apart, or nearly.) It gets a sampling interval of
    its own, so that it samples the fragment's start, or just before, then the instant.
    """
    instant = grid.instant(index)
    lead = instant - fragment_start
    if _MIN_INTERVAL <= lead <= MAX_SPAN_MS:
        return ImageRequest(fragment_start, instant, lead, instant, instant)
    if 0 < lead < _MIN_INTERVAL:
        return ImageRequest(instant - _MIN_INTERVAL, instant, _MIN_INTERVAL, instant, instant)
    # The fragment began over 300 s earlier: no request can hold both; NO_MEDIA it is.
    if instant < grid.end:
        return ImageRequest(instant, instant + 1, _MIN_INTERVAL, instant, instant)
    return ImageRequest(instant - _MIN_INTERVAL, instant, _MIN_INTERVAL, instant, instant)


ListPage = Callable[[int, int, Optional[str]], "tuple[list[Fragment], Optional[str]]"]
"""One ListFragments page for the range ``[start, end]`` (ms) after a NextToken (None first)."""


def stored_fragments(
    list_page: ListPage, start: int, end: int, timestamp: Callable[[Fragment], int]
) -> Iterator[Fragment]:
    """Every fragment whose ``timestamp`` lies in ``[start, end]`` ms, lazily, in time order.

    ListFragments answers in no order, even across pages, so a range whose
    first page is not the whole answer is halved and each half listed in
    turn: an empty year costs one call, and no more than one page of
    fragments is held at a time.
    """
    ranges = [(start, end)]
    while ranges:
        low, high = ranges.pop()
        fragments, token = list_page(low, high, None)
        if token and low < high:
            middle = (low + high) // 2
            ranges += [(middle + 1, high), (low, middle)]
            continue
        while token:  # more than a page in one millisecond: take them all
            more, token = list_page(low, high, token)
            fragments += more
        fragments.sort(key=lambda f: (timestamp(f), int(f.number)))
        yield from fragments
