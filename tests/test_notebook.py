"""What a notebook shows of fragments and images: HTML tables with compact times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from kvarchive import Fragment, FragmentList

T0 = datetime(2026, 11, 29, 23, 23, 28, 365000, tzinfo=timezone.utc)


def cells(html: str) -> list[list[str]]:
    """The text of each body row's cells."""
    body = html.split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", row) for row in body.split("</tr>") if "<td>" in row]


def test_fragment_table_prints_times_and_durations_compactly() -> None:
    """A FragmentList's table shows UTC times to the millisecond and durations in seconds."""
    fragments = FragmentList(
        Fragment(str(n), 1000 + n, T0 + timedelta(seconds=2 * n), T0, timedelta(seconds=2))
        for n in range(3)
    )
    rows = cells(fragments._repr_html_())
    assert rows[1] == [
        "1",
        "2026-11-29 23:23:28.365Z",
        "2026-11-29 23:23:30.365Z",
        "2.000s",
        "1001",
    ]
    assert len(rows) == 3


def test_fragment_table_shows_the_first_hundred_and_counts_the_rest() -> None:
    """A long list shows a hundred rows and says how many more there are."""
    fragments = FragmentList(
        Fragment(str(n), 1, T0, T0, timedelta(milliseconds=1500)) for n in range(250)
    )
    html = fragments._repr_html_()
    assert len(cells(html)) == 100
    assert "... and 150 more" in html


def test_image_table_prints_times_compactly(emulator: Any, kv: Any) -> None:
    """An ImagePager's table shows each instant as a compact UTC time."""
    emulator.add_sample_stream("demo", start=T0)
    images = kv.get_images(
        stream_name="demo", start=T0, end=T0 + timedelta(seconds=2), sampling_interval=1000
    )
    rows = cells(images._repr_html_())
    assert [row[0] for row in rows] == [
        "2026-11-29 23:23:28.365Z",
        "2026-11-29 23:23:29.365Z",
        "2026-11-29 23:23:30.365Z",
    ]
    assert all(int(row[2]) > 0 for row in rows)
