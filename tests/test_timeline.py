"""FragmentPager.timeline(): the stored spans and the gaps of a range, as text and HTML/SVG."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kvarchive import Fragment
from kvarchive._timeline import Gap, Span, build_timeline

T0 = datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)
MS = timedelta(milliseconds=1)


def fragment(at_ms: int, duration_ms: int = 2000, size: int = 100) -> Fragment:
    """A fragment whose both timestamps are T0 + at_ms."""
    when = T0 + at_ms * MS
    return Fragment(str(at_ms), size, when, when, duration_ms * MS)


def timeline(fragments: list[Fragment], start_ms: int, end_ms: int) -> Any:
    """The timeline of ``fragments`` over T0 + [start_ms, end_ms], by server timestamp."""
    return build_timeline(
        fragments,
        timestamp_type="SERVER_TIMESTAMP",
        start=T0 + start_ms * MS,
        end=T0 + end_ms * MS,
    )


def ms(value: datetime) -> int:
    """``value`` as ms after T0."""
    return (value - T0) // MS


def test_back_to_back_fragments_are_one_span() -> None:
    """Fragments that follow each other make one span, from the first start to the last end."""
    result = timeline([fragment(2000 * n, size=10 + n) for n in range(30)], 0, 60_000)
    assert result.spans == (Span(T0, T0 + 60_000 * MS, 30, sum(10 + n for n in range(30))),)
    assert result.gaps == ()
    assert result.fragment_count == 30


def test_a_gap_is_more_than_a_fragments_duration_without_a_fragment() -> None:
    """A hole of exactly one fragment's duration is jitter; a millisecond more is a gap."""
    fragments = [fragment(0), fragment(4000), fragment(8001)]  # holes of 2000 and 2001 ms
    result = timeline(fragments, 0, 10_001)
    assert [(ms(s.start), ms(s.end), s.fragment_count) for s in result.spans] == [
        (0, 6000, 2),
        (8001, 10_001, 1),
    ]
    assert result.gaps == (Gap(T0 + 6000 * MS, T0 + 8001 * MS),)


def test_the_edges_of_the_range_count_as_gaps_when_long_enough() -> None:
    """Time before the first fragment or after the last is a gap only past a fragment's duration."""
    fragments = [fragment(10_000), fragment(12_000)]
    short = timeline(fragments, 8000, 16_000)  # 2 s before, 2 s after: no gap
    assert short.gaps == ()
    long = timeline(fragments, 7999, 16_001)
    assert [(ms(g.start), ms(g.end)) for g in long.gaps] == [(7999, 10_000), (14_000, 16_001)]


def test_a_range_without_fragments_is_one_gap() -> None:
    """Nothing stored: the whole range is a gap; an empty range at an instant has no parts."""
    result = timeline([], 0, 60_000)
    assert result.spans == ()
    assert result.gaps == (Gap(T0, T0 + 60_000 * MS),)
    assert "0 fragment(s) in 0 span(s)" in str(result)
    instant = timeline([], 5000, 5000)
    assert (instant.spans, instant.gaps) == ((), ())
    assert "<svg" in instant._repr_html_()


def test_the_producer_timeline_reads_producer_timestamps() -> None:
    """With PRODUCER_TIMESTAMP the spans follow the producer's clock, not the server's."""
    late = Fragment("1", 5, T0 + 60 * timedelta(seconds=1), T0, 2 * timedelta(seconds=1))
    result = build_timeline(
        [late], timestamp_type="PRODUCER_TIMESTAMP", start=T0, end=T0 + timedelta(minutes=2)
    )
    assert [(ms(s.start), ms(s.end)) for s in result.spans] == [(60_000, 62_000)]
    assert "producer timestamps" in result.summary()


def sweep(fragments: list[Fragment]) -> list[tuple[int, int, int]]:
    """Spans found the plain way: sort, then join while a fragment starts within the reach
    (end + duration) of the fragments before it."""
    spans: list[list[int]] = []
    reach = None
    for f in sorted(fragments, key=lambda f: f.server_timestamp):
        start, duration = ms(f.server_timestamp), f.duration // MS
        if reach is not None and start <= reach:
            spans[-1][1] = max(spans[-1][1], start + duration)
            spans[-1][2] += 1
            reach = max(reach, start + 2 * duration)
        else:
            spans.append([start, start + duration, 1])
            reach = start + 2 * duration
    return [(a, b, n) for a, b, n in spans]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 5000)), min_size=1, max_size=60),
    st.randoms(use_true_random=False),
)
def test_fragments_in_any_order_merge_as_a_sorted_sweep_does(
    recipe: list[tuple[int, int]], shuffler: random.Random
) -> None:
    """However the service orders the fragments, the spans are those of a sorted sweep."""
    fragments = [fragment(at, duration) for at, duration in recipe]
    shuffler.shuffle(fragments)
    result = timeline(fragments, 0, 110_000)
    assert [(ms(s.start), ms(s.end), s.fragment_count) for s in result.spans] == sweep(fragments)
    spans_and_gaps = list(result.parts())
    assert [p.start for p in spans_and_gaps] == sorted(p.start for p in spans_and_gaps)
    for before, after in zip(result.spans, result.spans[1:]):
        assert Gap(before.end, after.start) in result.gaps


def test_a_day_of_fragments_draws_a_bounded_picture() -> None:
    """A day of 2 s fragments (43,200) with two missing in every hundred draws at most a
    rectangle per pixel column, lists the first hundred parts and counts the rest."""
    fragments = [fragment(2000 * n) for n in range(43_200) if n % 100 < 98]
    random.Random(0).shuffle(fragments)
    result = timeline(fragments, 0, 86_400_000)
    assert (len(result.spans), len(result.gaps)) == (432, 432)
    assert result.fragment_count == 42_336
    html = result._repr_html_()
    assert html.count("<rect") <= 800 + 2
    assert html.count("<tr>") == 1 + 100
    assert "... and 764 more" in html
    assert len(html) < 100_000


def test_the_svg_has_times_on_its_axis_and_a_label_for_screen_readers() -> None:
    """The drawing's ticks are round UTC times, and it names the range and what it holds."""
    result = timeline([fragment(30_000 + 2000 * n) for n in range(30)], 0, 150_000)
    html = result._repr_html_()
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert svg is not None
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))
    assert labels == ["23:00:00", "23:00:30", "23:01:00", "23:01:30", "23:02:00", "23:02:30"]
    assert 'role="img"' in svg.group(0)
    assert "1 span(s)" in re.search(r'aria-label="([^"]*)"', svg.group(0)).group(1)  # type: ignore[union-attr]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", html)
    assert rows == [
        ("gap", "2026-11-29 23:00:00.000Z", "2026-11-29 23:00:30.000Z"),
        ("stored", "2026-11-29 23:00:30.000Z", "2026-11-29 23:01:30.000Z"),
        ("gap", "2026-11-29 23:01:30.000Z", "2026-11-29 23:02:30.000Z"),
    ]


def test_a_minute_in_a_year_is_still_drawn() -> None:
    """A part far narrower than a pixel is drawn a pixel wide, and the axis shows dates."""
    minute = [fragment(200 * 86_400_000 + 2000 * n) for n in range(30)]
    html = timeline(minute, 0, 365 * 86_400_000)._repr_html_()
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)"', html)]
    assert 1.0 in widths
    assert re.findall(r">(\d{4}-\d\d-\d\d)</text>", html)[:2] == ["2026-11-30", "2027-03-01"]


def test_text_form_lists_every_span_and_gap() -> None:
    """str() gives the summary, a bar of # and ., and one line per span and gap."""
    result = timeline([fragment(0), fragment(2000), fragment(20_000)], 0, 22_000)
    summary, bar, *lines = str(result).splitlines()
    assert summary.startswith("2026-11-29 23:00:00.000Z to 2026-11-29 23:00:22.000Z")
    assert "3 fragment(s) in 2 span(s)" in summary
    assert bar.startswith("|#") and bar.endswith("#|") and "." in bar
    assert [line.split()[0] for line in lines] == ["stored", "gap", "stored"]
    assert lines[1].split()[-1] == "16.000s"
    assert repr(result).startswith("<Timeline 2026-11-29 23:00:00.000Z to ")


def test_pager_timeline_merges_pages_in_service_order(emulator: Any, kv: Any) -> None:
    """Over HTTP, pages of three fragments in the service's order give the stream's spans."""
    emulator.add_stream("cam", fragment_count=12, start=T0, payload_size=64)
    emulator.add_stream(
        "sparse", fragment_count=4, start=T0, payload_size=64, gap_ms=8000
    )  # 2 s every 10 s
    end = T0 + timedelta(minutes=1)
    cam = kv.list_fragments(stream_name="cam", start=T0, end=end, page_size=3).timeline()
    assert [(ms(s.start), ms(s.end), s.fragment_count) for s in cam.spans] == [(0, 24_000, 12)]
    assert [(ms(g.start), ms(g.end)) for g in cam.gaps] == [(24_000, 60_000)]
    assert emulator.count("ListFragments") == 4
    sparse = kv.list_fragments(stream_name="sparse", start=T0, end=end, page_size=3).timeline()
    assert [ms(s.start) for s in sparse.spans] == [0, 10_000, 20_000, 30_000]
    assert len(sparse.gaps) == 4
