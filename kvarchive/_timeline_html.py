"""A timeline as HTML: an inline SVG drawing with times on its axis, and a table of its parts.

No plotting library: the drawing is a few rectangles. However many spans and
gaps a range holds, it draws at most about one rectangle per pixel column
(neighbours closer than a pixel are drawn as one, and a part narrower than a
pixel still gets one, so that a minute in a year shows); the table lists the
first hundred parts, so that screen readers (and everyone) can read them.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Union

from ._timeline import Gap, Span, Timeline
from ._times import compact_seconds, compact_time, from_epoch_ms, to_epoch_ms

__all__ = ["timeline_html"]

WIDTH = 800
_BAR_TOP, _BAR_HEIGHT, _AXIS = 4, 28, 36
_HEIGHT = 60
_STORED, _GAP = "#2c7bb6", "#f4a582"  # blue and light orange: apart in lightness too
_MAX_ROWS = 100
_SECOND, _MINUTE, _HOUR, _DAY = 1000, 60_000, 3_600_000, 86_400_000
# Tick spacings, in ms: the first that puts at most _MAX_TICKS ticks on the axis.
_STEPS = (
    *(1, 2, 5, 10, 20, 50, 100, 200, 500),
    *(s * _SECOND for s in (1, 2, 5, 10, 15, 30)),
    *(m * _MINUTE for m in (1, 2, 5, 10, 15, 30)),
    *(h * _HOUR for h in (1, 2, 3, 6, 12)),
    *(d * _DAY for d in (1, 2, 7, 14, 28, 91, 182, 364)),
)
_MAX_TICKS = 7


def timeline_html(timeline: Timeline) -> str:
    """The figure: a caption, the drawing with its axis, and the table of spans and gaps."""
    summary = html.escape(timeline.summary())
    legend = "".join(
        f'<span style="display:inline-block;width:0.8em;height:0.8em;background:{colour};'
        f'margin:0 0.3em 0 1em;vertical-align:middle"></span>{name}'
        for colour, name in (
            (_STORED, "stored"),
            (_GAP, "gap (more than a fragment's duration without one)"),
        )
    )
    return (
        '<figure class="kvarchive-timeline" style="margin:0.5em 0">'
        f"<figcaption>{summary}<br>{legend}</figcaption>"
        f"{_svg(timeline, summary)}{_table(timeline)}</figure>"
    )


def _svg(timeline: Timeline, label: str) -> str:
    first, last = (to_epoch_ms(t) for t in timeline.extent)
    scale = WIDTH / max(1, last - first)

    def pixels(parts: Iterable[Union[Span, Gap]]) -> Iterator[tuple[float, float]]:
        return _coalesced(
            ((to_epoch_ms(p.start) - first) * scale, (to_epoch_ms(p.end) - first) * scale)
            for p in parts
        )

    shapes = [
        f'<rect x="0" y="{_BAR_TOP}" width="{WIDTH}" height="{_BAR_HEIGHT}" '
        'fill="currentColor" fill-opacity="0.06"/>'
    ]
    for colour, parts in ((_GAP, timeline.gaps), (_STORED, timeline.spans)):
        shapes += [
            f'<rect x="{x:.1f}" y="{_BAR_TOP}" width="{w:.1f}" height="{_BAR_HEIGHT}" '
            f'fill="{colour}"/>'
            for x, w in pixels(parts)
        ]
    shapes.append(
        f'<line x1="0" y1="{_AXIS}" x2="{WIDTH}" y2="{_AXIS}" stroke="currentColor" '
        'stroke-width="1"/>'
    )
    for at, text in _ticks(first, last):
        x = (at - first) * scale
        anchor = "start" if x < 40 else "end" if x > WIDTH - 40 else "middle"
        shapes.append(
            f'<line x1="{x:.1f}" y1="{_AXIS}" x2="{x:.1f}" y2="{_AXIS + 5}" '
            'stroke="currentColor"/>'
            f'<text x="{x:.1f}" y="{_AXIS + 17}" font-size="11" text-anchor="{anchor}" '
            f'fill="currentColor">{html.escape(text)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
        f'width="{WIDTH}" height="{_HEIGHT}" viewBox="0 0 {WIDTH} {_HEIGHT}" '
        f'style="display:block;max-width:100%;height:auto;font-family:sans-serif">'
        f"<title>{label}</title>{''.join(shapes)}</svg>"
    )


def _coalesced(spans: Iterable[tuple[float, float]]) -> Iterator[tuple[float, float]]:
    """``(x, width)`` rectangles for sorted pixel spans: closer than a pixel become one,
    and each is at least a pixel wide."""
    current: list[float] = []
    for begin, end in spans:
        if current and begin <= current[1] + 1:
            current[1] = max(current[1], end)
            continue
        if current:
            yield _at_least_a_pixel(*current)
        current = [begin, end]
    if current:
        yield _at_least_a_pixel(*current)


def _at_least_a_pixel(begin: float, end: float) -> tuple[float, float]:
    width = max(1.0, end - begin)
    return min(begin, WIDTH - width), width


def _ticks(first: int, last: int) -> list[tuple[int, str]]:
    """Round times between ``first`` and ``last`` (epoch ms), labelled no finer than needed."""
    span = max(1, last - first)
    step = next((s for s in _STEPS if span / s <= _MAX_TICKS), _STEPS[-1])
    start = -(-first // step) * step
    if step >= _DAY:  # whole days from the epoch are UTC midnights
        start = -(-first // _DAY) * _DAY
    several_days = from_epoch_ms(first).date() != from_epoch_ms(last).date()
    return [
        (at, _label(from_epoch_ms(at), step, several_days))
        for at in itertools.takewhile(lambda t: t <= last, itertools.count(start, step))
    ]


def _label(when: datetime, step: int, several_days: bool) -> str:
    text = compact_time(when)  # 2026-11-29 23:23:28.365Z
    if step >= _DAY:
        return text[:10]
    clock = text[11:23] if step < _SECOND else text[11:19] if step < _MINUTE else text[11:16]
    return f"{text[5:10]} {clock}" if several_days else clock


def _table(timeline: Timeline) -> str:
    rows = []
    for part in itertools.islice(timeline.parts(), _MAX_ROWS):
        stored = isinstance(part, Span)
        count = str(part.fragment_count) if isinstance(part, Span) else ""
        cells = (
            "stored" if stored else "gap",
            compact_time(part.start),
            compact_time(part.end),
            compact_seconds(part.duration),
            count,
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    total = len(timeline.spans) + len(timeline.gaps)
    more = f"<p>... and {total - _MAX_ROWS} more</p>" if total > _MAX_ROWS else ""
    head = "".join(f"<th>{h}</th>" for h in ("", "start", "end", "duration", "fragments"))
    return (
        "<table><caption>Spans and gaps, in time order (UTC)</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )
