"""Long ranges as consecutive clips, and the warning when one clip would be cut short."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kvarchive import ArchivedMediaClient, ClipTruncationWarning, Fragment, errors
from kvarchive._clips import clip_ranges, plan_clips
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def fragments(sizes: list[int]) -> list[Fragment]:
    """Fragments one second apart with the given sizes."""
    return [
        Fragment(
            str(100 + i),
            size,
            T0 + timedelta(seconds=i),
            T0 + timedelta(seconds=i),
            timedelta(seconds=1),
        )
        for i, size in enumerate(sizes)
    ]


def test_plan_respects_the_fragment_limit() -> None:
    """450 fragments make groups of 200, 200 and 50, in order, with none lost."""
    listed = fragments([10] * 450)
    groups = plan_clips(listed, max_fragments=200, max_bytes=10**9)
    assert [len(g) for g in groups] == [200, 200, 50]
    assert [f for g in groups for f in g] == listed


def test_plan_respects_the_byte_limit() -> None:
    """Groups stay within max_bytes; an oversized fragment gets a group of its own."""
    groups = plan_clips(fragments([40, 40, 40, 150, 10]), max_fragments=200, max_bytes=100)
    assert [[f.size for f in g] for g in groups] == [[40, 40], [40], [150], [10]]


def test_clip_ranges_do_not_overlap() -> None:
    """Each range runs from its group's first start to its last start; a group of one fragment
    ends 1 ms after it, since GetClip refuses an end equal to the start."""
    groups = plan_clips(fragments([1] * 5), max_fragments=2, max_bytes=100)
    ranges = clip_ranges(groups, "SERVER_TIMESTAMP")
    assert ranges == [
        (T0, T0 + timedelta(seconds=1)),
        (T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)),
        (T0 + timedelta(seconds=4), T0 + timedelta(seconds=4, milliseconds=1)),
    ]


@pytest.fixture
def long_stream(emulator: Emulator) -> Any:
    """450 one-second fragments: more than two clips' worth."""
    return emulator.add_stream(
        "cam", fragment_count=450, start=T0, payload_size=256, fragment_duration_ms=1000
    )


def test_download_clips_covers_the_range_once(
    emulator: Emulator, kv: ArchivedMediaClient, long_stream: Any, tmp_path: Any
) -> None:
    """download_clips writes three MP4s whose GetClip ranges select every fragment exactly once."""
    results = kv.download_clips(
        stream_name="cam", start=T0, end=T0 + timedelta(hours=1), directory=tmp_path
    )
    assert [r.fragment_count for r in results] == [200, 200, 50]
    for result in results:
        data = Path(result.path).read_bytes()
        assert data[4:8] == b"ftyp"
        assert len(data) == result.bytes_written
    ranges = [
        r.params["ClipFragmentSelector"]["TimestampRange"]
        for r in emulator.requests
        if r.operation == "GetClip"
    ]
    starts = [f.server_ms / 1000 for f in long_stream.fragments]
    covered = [
        sum(1 for s in starts if r["StartTimestamp"] <= s <= r["EndTimestamp"]) for r in ranges
    ]
    assert covered == [200, 200, 50]


def test_download_clips_saves_a_last_clip_of_one_fragment(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """201 fragments make a clip of 200 and one of a single fragment, whose range the service
    accepts (its end is after its start)."""
    emulator.add_stream("one-over", fragment_count=201, start=T0, payload_size=64,
                        fragment_duration_ms=1000)  # fmt: skip
    results = kv.download_clips(
        stream_name="one-over", start=T0, end=T0 + timedelta(hours=1), directory=tmp_path
    )
    assert [r.fragment_count for r in results] == [200, 1]


def test_get_clip_warns_when_the_range_is_too_long(
    kv: ArchivedMediaClient, long_stream: Any
) -> None:
    """A range of 450 fragments warns that GetClip will cut it short."""
    with pytest.warns(ClipTruncationWarning, match="download_clips"):
        kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(hours=1)).close()


def test_get_clip_does_not_warn_for_a_short_range(
    emulator: Emulator, kv: ArchivedMediaClient, long_stream: Any
) -> None:
    """A range under a minute neither warns nor lists."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(seconds=30)).close()
    assert emulator.count("ListFragments") == 0


def test_a_filter_on_the_warning_family_catches_a_truncated_clip(
    kv: ArchivedMediaClient, long_stream: Any
) -> None:
    """One filter on KVArchiveWarning turns GetClip's truncation warning into an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", errors.KVArchiveWarning)
        with pytest.raises(errors.ClipTruncationWarning, match="download_clips"):
            kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(hours=1)).close()
