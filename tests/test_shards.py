"""plan_export() cuts a range into shards at fragment boundaries; shard.run() writes one MKV each."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from exports import recorded, sha256
from hypothesis import given, settings
from hypothesis import strategies as st

from kvarchive import ArchivedMediaClient, ExportShard, Fragment, ValidationError
from kvarchive._shards import plan_shards
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
HOUR = {"start": T0, "end": T0 + timedelta(hours=1)}


def test_shards_follow_the_grid_and_hold_every_fragment_once(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Thirty 2 s fragments in 20 s shards: three shards of ten, each inside its cell, in order."""
    stream = emulator.add_stream("cam", fragment_count=30, start=T0, payload_size=256)
    shards = kv.plan_export(stream_name="cam", **HOUR, shard=timedelta(seconds=20))
    assert [len(s.fragments) for s in shards] == [10, 10, 10]
    assert [n for s in shards for n in s.numbers] == [f.number for f in stream.fragments]
    assert [s.file for s in shards] == [
        "cam/20260101T120000Z.mkv",
        "cam/20260101T120020Z.mkv",
        "cam/20260101T120040Z.mkv",
    ]
    assert shards[1].first == T0 + timedelta(seconds=20)
    assert shards[1].last == T0 + timedelta(seconds=38)
    assert emulator.count("ListFragments") == 1


def test_a_gap_longer_than_a_shard_leaves_no_empty_shard(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Fragments 2 s long every 30 s, in 10 s shards: one shard per fragment, none empty."""
    emulator.add_stream("cam", fragment_count=5, start=T0, fragment_duration_ms=2000, gap_ms=28_000)
    shards = kv.plan_export(stream_name="cam", **HOUR, shard=timedelta(seconds=10))
    assert [len(s.fragments) for s in shards] == [1, 1, 1, 1, 1]
    assert [s.file[-12:] for s in shards] == [
        f"T12{minute:02d}{second:02d}Z.mkv"
        for minute, second in [(0, 0), (0, 30), (1, 0), (1, 30), (2, 0)]
    ]


def test_an_empty_range_plans_nothing(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """A range without fragments, and start == end between fragments, give no shard."""
    emulator.add_stream("cam", fragment_count=3, start=T0)
    assert (
        kv.plan_export(stream_name="cam", start=T0 - timedelta(days=1), end=T0 - timedelta(hours=1))
        == []
    )
    assert (
        kv.plan_export(
            stream_name="cam", start=T0 + timedelta(seconds=1), end=T0 + timedelta(seconds=1)
        )
        == []
    )


def test_start_equal_to_end_on_a_fragment_plans_it(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """start == end exactly on a fragment's timestamp gives that one fragment."""
    emulator.add_stream("cam", fragment_count=3, start=T0)
    shards = kv.plan_export(
        stream_name="cam", start=T0 + timedelta(seconds=2), end=T0 + timedelta(seconds=2)
    )
    assert [len(s.fragments) for s in shards] == [1]


@pytest.mark.parametrize("shard", [0, -5, 0.5, timedelta(milliseconds=999), True, "10m", None])
def test_a_bad_shard_length_is_refused_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient, shard: object
) -> None:
    """A shard length that is not at least one second is a ValidationError, no request sent."""
    with pytest.raises(ValidationError):
        kv.plan_export(stream_name="cam", **HOUR, shard=shard)  # type: ignore[arg-type]
    assert emulator.count() == 0


def test_shards_planned_by_arn_request_by_arn(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A stream named by ARN: the shard's stream and folder are its name, its requests use the ARN."""
    stream = emulator.add_stream("cam", fragment_count=4, start=T0, payload_size=256)
    (shard,) = kv.plan_export(stream_arn=stream.arn, **HOUR)
    assert (shard.stream, shard.stream_arn, shard.file[:4]) == ("cam", stream.arn, "cam/")
    emulator.clear_requests()
    shard.run(kv, tmp_path)
    media = [r for r in emulator.requests if r.operation == "GetMediaForFragmentList"]
    assert media and media[0].params.get("StreamARN") == stream.arn


def test_a_shard_pickles_and_prints_short(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """A shard survives pickling unchanged, and its repr counts its fragments instead of listing them."""
    emulator.add_stream("cam", fragment_count=300, start=T0, payload_size=16)
    (shard,) = kv.plan_export(stream_name="cam", **HOUR, shard=timedelta(hours=1))
    assert pickle.loads(pickle.dumps(shard)) == shard
    assert "<300 fragments>" in repr(shard) and len(repr(shard)) < 400


def test_run_writes_the_shard_as_one_recording(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """shard.run writes exactly its fragments, in order, into a folder it makes; size and SHA-256
    describe the file; no temporary file is left."""
    stream = emulator.add_stream("cam", fragment_count=12, start=T0, payload_size=1024)
    shards = kv.plan_export(stream_name="cam", **HOUR, shard=timedelta(seconds=10))
    out = tmp_path / "missing" / "folder"
    result = shards[1].run(kv, out)
    path = out / "cam" / "20260101T120010Z.mkv"
    assert result.ok and not result.skipped and result.path == str(path)
    assert result.bytes_written == path.stat().st_size and result.sha256 == sha256(path)
    numbers, _ = recorded(path)
    assert numbers == shards[1].numbers == [f.number for f in stream.fragments[5:10]]
    assert [p.name for p in (out / "cam").iterdir()] == [path.name]


def test_a_cut_connection_still_gives_a_whole_shard(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """The media body cut after 5000 bytes is resumed: the shard's file holds every fragment once."""
    emulator.add_stream("cam", fragment_count=8, start=T0, payload_size=4096)
    (shard,) = kv.plan_export(stream_name="cam", **HOUR)
    emulator.cut_next("GetMediaForFragmentList", after_bytes=5000)
    result = shard.run(kv, tmp_path)
    assert recorded(Path(result.path or ""))[0] == shard.numbers
    assert emulator.count("GetMediaForFragmentList") == 2


def fragment(number: int, at_ms: int) -> Fragment:
    """A listed fragment stamped ``at_ms`` after T0 (both clocks)."""
    moment = T0 + timedelta(milliseconds=at_ms)
    return Fragment(str(number), 100, moment, moment, timedelta(seconds=1))


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 10_000_000), max_size=60),
    length_s=st.integers(1, 7200),
)
def test_any_listing_is_cut_into_a_partition_of_grid_cells(
    offsets: list[int], length_s: int
) -> None:
    """Whatever the timestamps and shard length: every fragment in exactly one shard, in order,
    no shard empty, each within one cell of the grid, no two shards sharing a file."""
    listed = [fragment(i, at) for i, at in enumerate(sorted(offsets))]
    length = timedelta(seconds=length_s)
    shards = plan_shards(("StreamName", "cam"), listed, length, "SERVER_TIMESTAMP")
    assert [f for s in shards for f in s.fragments] == listed
    assert all(s.fragments for s in shards)
    cells = [
        {
            (f.server_timestamp - datetime(1970, 1, 1, tzinfo=timezone.utc)) // length
            for f in s.fragments
        }
        for s in shards
    ]
    assert all(len(c) == 1 for c in cells)
    assert len({s.file for s in shards}) == len(shards)
    assert all(isinstance(s, ExportShard) for s in shards)
