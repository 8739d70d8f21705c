"""The GetImages planner: for any range, interval and stored fragments, one request's answer."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Optional

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kvarchive import Fragment
from kvarchive._image_plan import (
    MAX_SPAN_MS,
    EmptyRun,
    ImageRequest,
    SamplingGrid,
    from_ms,
    plan_requests,
    stored_fragments,
    to_ms,
)

T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z in ms

Span = tuple[int, int]


def answer(start: int, end: int, interval: int, spans: list[Span]) -> list[tuple[int, bool]]:
    """What GetImages answers: each instant, with an image if a fragment starting in range holds it."""
    found = []
    at = start
    while at <= end:
        holder = [s for s in spans if s[0] <= at < s[1]]
        found.append((at, bool(holder) and start <= holder[-1][0] <= end))
        at += interval
    return found


def replay(
    grid: SamplingGrid, spans: list[Span], listed: Optional[list[Span]] = None
) -> list[tuple[int, bool]]:
    """The instants the plan delivers for the ``listed`` spans (by default those starting in
    the range), asking the simulated service for each request."""
    if listed is None:
        listed = [s for s in spans if grid.start <= s[0] <= grid.end]
    delivered: list[tuple[int, bool]] = []
    for step in plan_requests(grid, listed):
        if isinstance(step, EmptyRun):
            delivered += [(grid.instant(k), False) for k in range(step.first, step.last + 1)]
            continue
        assert isinstance(step, ImageRequest)
        assert 0 < step.end - step.start <= MAX_SPAN_MS, step
        # Past the range only as the 1 ms window of the range's last instant alone,
        # which samples that instant only (an earlier start would span over 300 s);
        # before it by at most 300 s (the listing's reach).
        assert step.interval >= 200 and step.end <= max(grid.end, step.start + 1), step
        assert step.start >= grid.start - MAX_SPAN_MS, step
        got = answer(step.start, step.end, step.interval, spans)
        delivered += [(at, image) for at, image in got if step.keeps(at)]
    return delivered


layouts = st.lists(
    st.tuples(st.integers(0, 400_000), st.integers(1, 30_000)), min_size=0, max_size=40
)


@settings(max_examples=1000, deadline=None)
@example(layout=[(240_001, 1)], offset=-60_000, length=300_001, interval=300_001)
@example(layout=[(0, 3), (303_049, 24_880)], offset=3053, length=455_111, interval=300_000)
@example(layout=[(5000, 20_000)], offset=0, length=900_000, interval=299_999)
@example(layout=[(299_900, 10_000)], offset=0, length=600_000, interval=150_000)
@given(
    layout=layouts,
    offset=st.integers(-60_000, 120_000),
    length=st.integers(1, 3 * 3600 * 1000),
    interval=st.one_of(
        st.sampled_from([200, 1000, 7000, 60_000, 299_999, 300_000, 300_001, 600_000]),
        st.integers(200, 900_000),
    ),
)
def test_the_plan_gives_what_one_unbounded_request_would(
    layout: list[tuple[int, int]], offset: int, length: int, interval: int
) -> None:
    """Every instant comes once, with an image exactly where one request would give one."""
    spans, at = [], T0
    for gap, duration in layout:
        at += gap
        spans.append((at, at + duration))
        at += duration
    grid = SamplingGrid(T0 + offset, T0 + offset + length, interval)
    assert replay(grid, spans) == answer(grid.start, grid.end, interval, spans)


def stored_answer(grid: SamplingGrid, spans: list[Span]) -> list[tuple[int, bool]]:
    """Each instant of the grid, with an image wherever a stored fragment holds it."""
    return [
        (grid.instant(k), any(a <= grid.instant(k) < b for a, b in spans))
        for k in range(grid.last_index + 1)
    ]


def extra_instants(grid: SamplingGrid, step: ImageRequest) -> int:
    """How many instants the request samples that it is not for (billed, not yielded)."""
    sampled = range(step.start, step.end + 1, step.interval)
    return sum(1 for at in sampled if not step.keeps(at))


@settings(max_examples=1000, deadline=None)
@example(layout=[(0, 2000)], offset=1500, length=10_000, interval=1000)
@example(layout=[(0, 1)], offset=1, length=1, interval=200)
@example(layout=[(0, 2000)] * 200, offset=1500, length=299_000, interval=1000)
@example(layout=[(0, 7000)] * 200, offset=1500, length=1_260_000, interval=200)
@given(
    layout=layouts,
    offset=st.integers(-60_000, 120_000),
    length=st.integers(1, 3 * 3600 * 1000),
    interval=st.one_of(
        st.sampled_from([200, 1000, 7000, 60_000, 299_999, 300_000, 300_001]),
        st.integers(200, 900_000),
    ),
)
def test_a_start_inside_a_fragment_keeps_every_image_for_a_few_extra_instants(
    layout: list[tuple[int, int]], offset: int, length: int, interval: int
) -> None:
    """Listed from 300 s before the range, every instant where media is stored has its image;
    each request starts on the grid and asks at most ceil(fragment / interval) extra instants."""
    spans, at = [], T0
    for gap, duration in layout:
        at += gap
        spans.append((at, at + duration))
        at += duration
    grid = SamplingGrid(T0 + offset, T0 + offset + length, interval)
    listed = [s for s in spans if grid.start - MAX_SPAN_MS <= s[0] <= grid.end]
    assert replay(grid, spans, listed) == stored_answer(grid, spans)
    for step in plan_requests(grid, listed):
        if isinstance(step, ImageRequest):
            if step.interval == interval:
                assert (step.start - grid.start) % interval == 0, step
            # (A request may begin with the instant at a fragment's very end.)
            holder = next(b - a for a, b in spans if a <= step.first <= b)
            assert extra_instants(grid, step) <= -(-holder // interval), step


def test_a_range_of_exactly_five_minutes_is_one_request() -> None:
    """A 300 s range covered by one stored span is one request, end included."""
    grid = SamplingGrid(T0, T0 + MAX_SPAN_MS, 1000)
    assert list(plan_requests(grid, [(T0, T0 + MAX_SPAN_MS)])) == [
        ImageRequest(T0, T0 + MAX_SPAN_MS, 1000, T0, T0 + MAX_SPAN_MS)
    ]


def test_a_short_tail_goes_with_the_last_request() -> None:
    """Instants past the last listed fragment, up to a page of them, go with the last request:
    media stored since the listing (which may not show it yet) still gives its images."""
    grid = SamplingGrid(T0, T0 + 60_000, 1000)
    assert list(plan_requests(grid, [(T0, T0 + 50_000)])) == [
        ImageRequest(T0, T0 + 60_000, 1000, T0, T0 + 60_000)
    ]


def test_a_long_gap_costs_no_request() -> None:
    """Hours without media between two fragments are an empty run, not requests."""
    grid = SamplingGrid(T0, T0 + 4 * 3600_000, 1000)
    spans = [(T0, T0 + 2000), (T0 + 3 * 3600_000, T0 + 3 * 3600_000 + 2000)]
    steps = list(plan_requests(grid, spans))
    assert [type(s).__name__ for s in steps] == [
        "ImageRequest",
        "EmptyRun",
        "ImageRequest",
        "EmptyRun",
    ]


def fragments_at(starts: list[int]) -> list[Fragment]:
    return [
        Fragment(
            number=str(10**40 + n),
            size=100,
            producer_timestamp=from_ms(ms),
            server_timestamp=from_ms(ms),
            duration=timedelta(milliseconds=500),
        )
        for n, ms in enumerate(starts)
    ]


class Listing:
    """ListFragments over a fixed set: shuffled pages of at most 1000, counted."""

    def __init__(self, fragments: list[Fragment]) -> None:
        self.fragments = fragments
        self.calls = 0

    def __call__(
        self, low: int, high: int, token: Optional[str]
    ) -> tuple[list[Fragment], Optional[str]]:
        self.calls += 1
        chosen = [f for f in self.fragments if low <= to_ms(f.server_timestamp) <= high]
        random.Random(low * 31 + high).shuffle(chosen)
        offset = int(token or 0)
        more = offset + 1000 < len(chosen)
        return chosen[offset : offset + 1000], str(offset + 1000) if more else None


def server_ms(fragment: Fragment) -> int:
    return to_ms(fragment.server_timestamp)


@settings(max_examples=50, deadline=None)
@given(starts=st.lists(st.integers(0, 10**9), max_size=3000))
def test_the_sweep_yields_every_fragment_once_in_order(starts: list[int]) -> None:
    """Bisecting on full pages lists every fragment once, in time order."""
    fragments = fragments_at([T0 + s for s in starts])
    swept = list(stored_fragments(Listing(fragments), T0, T0 + 10**9, server_ms))
    key = [(server_ms(f), int(f.number)) for f in swept]
    assert key == sorted((server_ms(f), int(f.number)) for f in fragments)


def test_an_empty_year_is_one_listing() -> None:
    """A range with nothing stored costs one ListFragments call."""
    listing = Listing([])
    assert list(stored_fragments(listing, T0, T0 + 365 * 86_400_000, server_ms)) == []
    assert listing.calls == 1


def test_more_than_a_page_in_one_millisecond_is_read_whole() -> None:
    """1500 fragments with one timestamp are followed page by page, not split forever."""
    fragments = fragments_at([T0 + 5] * 1500)
    swept = list(stored_fragments(Listing(fragments), T0, T0 + 10, server_ms))
    assert len(swept) == 1500
