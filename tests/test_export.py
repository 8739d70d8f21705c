"""kvarchive.export(): every shard of every stream, on any executor, with a manifest to resume from."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from exports import files, recorded, rows, sha256, two_streams

import kvarchive
from kvarchive import ArchivedMediaClient, Backoff, UsageError, ValidationError
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
END = T0 + timedelta(hours=1)
SHARD = timedelta(seconds=20)


def processes(workers: int) -> ProcessPoolExecutor:
    """A pool of fresh worker processes (spawned: forking a process with threads is unsafe)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


@pytest.fixture
def streams(emulator: Emulator) -> list[str]:
    """Two streams, named out of order: "door" and "cam" (3 shards of 20 s)."""
    return list(reversed(two_streams(emulator)))


def media_calls(emulator: Emulator) -> int:
    return emulator.count("GetMediaForFragmentList")


def test_the_manifest_lists_every_shard_in_stream_then_time_order(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """One row per shard, streams by name then time, each describing its file exactly."""
    kv = emulator.client()
    result = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    listed = rows(tmp_path)
    assert [(r["stream"], r["file"]) for r in listed] == [
        ("cam", "cam/20260101T120000Z.mkv"),
        ("cam", "cam/20260101T120020Z.mkv"),
        ("cam", "cam/20260101T120040Z.mkv"),
        ("door", "door/20260101T120000Z.mkv"),
        ("door", "door/20260101T120020Z.mkv"),
    ]
    for row in listed:
        path = tmp_path / row["file"]
        assert set(row) == {"stream", "file", "fragments", "first", "last", "bytes", "sha256"}
        assert row["bytes"] == path.stat().st_size and row["sha256"] == sha256(path)
        assert recorded(path)[0] == row["fragments"]
    assert [len(r["fragments"]) for r in listed] == [10, 10, 5, 7, 5]
    assert listed[3]["first"] == "2026-01-01T12:00:07.000Z"
    assert listed[3]["last"] == "2026-01-01T12:00:19.000Z"
    assert result.manifest == str(tmp_path / "manifest.jsonl")
    assert [r.shard.file for r in result.shards] == [row["file"] for row in listed]
    assert result.bytes_written == sum(row["bytes"] for row in listed)
    assert result.failed == []


def test_the_shards_hold_exactly_the_fragments_of_one_download(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """Fragment by fragment and frame by frame, the shards of a stream together are one
    download() of the range: none lost, none repeated, none out of order."""
    kv = emulator.client()
    kvarchive.export(kv, streams, T0, END, tmp_path / "export", shard=SHARD)
    whole = kv.download(stream_name="cam", start=T0, end=END, path=tmp_path / "whole.mkv")
    numbers, frames = recorded(Path(str(whole.path)))
    parts = [recorded(tmp_path / "export" / r["file"]) for r in rows(tmp_path / "export")]
    cam = parts[:3]
    assert [n for part_numbers, _ in cam for n in part_numbers] == numbers
    assert [f for _, part_frames in cam for f in part_frames] == frames
    assert numbers == [f.number for f in emulator.stream("cam").fragments]


def test_a_process_pool_writes_the_same_files_and_manifest(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """The same export on the default thread pool and on a pool of two worker processes gives
    byte-identical shard files and manifests."""
    kv = emulator.client()
    kvarchive.export(kv, streams, T0, END, tmp_path / "threads", shard=SHARD)
    with processes(2) as pool:
        result = kvarchive.export(
            kv, streams, T0, END, tmp_path / "processes", shard=SHARD, executor=pool
        )
    assert result.failed == []
    assert files(tmp_path / "processes") == files(tmp_path / "threads")


def test_a_rerun_skips_what_is_done_and_redoes_what_is_not(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """Run again, nothing is fetched; with one file changed and one deleted, those two alone are."""
    kv = emulator.client()
    first = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    before = files(tmp_path)
    emulator.clear_requests()
    again = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    assert media_calls(emulator) == 0
    assert all(r.skipped for r in again.shards) and again.bytes_written == 0
    assert files(tmp_path) == before
    changed, deleted = tmp_path / "cam/20260101T120020Z.mkv", tmp_path / "door/20260101T120000Z.mkv"
    changed.write_bytes(changed.read_bytes()[:-1] + b"\x00")
    deleted.unlink()
    third = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    assert media_calls(emulator) == 2
    assert sorted(r.shard.file for r in third.shards if not r.skipped) == [
        "cam/20260101T120020Z.mkv",
        "door/20260101T120000Z.mkv",
    ]
    assert files(tmp_path) == before
    assert third.bytes_written == changed.stat().st_size + deleted.stat().st_size
    assert [r.sha256 for r in third.shards] == [r.sha256 for r in first.shards]


def test_a_torn_last_row_costs_its_shard_alone(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """A manifest whose last row a kill cut in half: the rerun fetches that row's shard alone and
    writes the manifest whole again."""
    kv = emulator.client()
    kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    before = files(tmp_path)
    manifest = tmp_path / "manifest.jsonl"
    text = manifest.read_text()
    manifest.write_text(text[: text.rindex("\n", 0, -1) + 40])
    emulator.clear_requests()
    again = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    assert media_calls(emulator) == 1
    assert [r.shard.file for r in again.shards if not r.skipped] == [rows(tmp_path)[-1]["file"]]
    assert files(tmp_path) == before


def test_a_shard_that_fails_twice_is_reported_and_the_rest_written(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """A shard whose file cannot be written (a folder stands in its place) is tried twice, then
    its result and row carry the error and no file; the others are written; a re-run after the
    cause is gone writes it alone."""
    blocker = tmp_path / "cam" / "20260101T120040Z.mkv"
    blocker.mkdir(parents=True)
    kv = emulator.client()
    result = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    (failed,) = result.failed
    assert failed.shard.file == "cam/20260101T120040Z.mkv"
    assert failed.attempts == 2 and failed.path is None and failed.sha256 is None
    assert failed.error and failed.error.startswith("ValidationError: path must name a file")
    row = next(r for r in rows(tmp_path) if r["fragments"] == failed.shard.numbers)
    assert row["file"] is None and row["bytes"] is None and row["error"] == failed.error
    assert sum(r.ok for r in result.shards) == 4
    blocker.rmdir()
    emulator.clear_requests()
    again = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    assert again.failed == [] and media_calls(emulator) == 1
    assert recorded(blocker)[0] == failed.shard.numbers


def test_a_shard_whose_first_attempt_fails_is_run_again(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """One refused GetMediaForFragmentList (not retried by the client) costs one shard a second
    attempt, and the export ends whole."""
    emulator.fail_next("GetMediaForFragmentList", "NotAuthorizedException")
    with ThreadPoolExecutor(1) as pool:
        result = kvarchive.export(
            emulator.client(), streams, T0, END, tmp_path, shard=SHARD, executor=pool
        )
    assert result.failed == []
    assert sorted(r.attempts for r in result.shards) == [1, 1, 1, 1, 2]


def test_a_cut_connection_still_ends_in_whole_shards(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """Two media bodies cut mid-way are resumed: every shard holds its fragments once, first try."""
    emulator.cut_next("GetMediaForFragmentList", after_bytes=9000, count=2)
    result = kvarchive.export(emulator.client(), streams, T0, END, tmp_path, shard=SHARD)
    assert [r.attempts for r in result.shards] == [1] * 5
    for row in rows(tmp_path):
        assert recorded(tmp_path / row["file"])[0] == row["fragments"]
    assert media_calls(emulator) == 7


def test_four_processes_on_one_stream_keep_to_its_rate(emulator: Emulator, tmp_path: Path) -> None:
    """With the emulator allowing 5 media calls a second per stream, thirty quick shards on four
    worker processes all end on their first attempt, hardly a call throttled."""
    emulator.add_stream("cam", fragment_count=60, start=T0, payload_size=1024)
    for operation in ("GetMediaForFragmentList", "ListFragments", "GetDataEndpoint"):
        emulator.throttle(operation, 5)
    with processes(4) as pool:
        result = kvarchive.export(
            emulator.client(), ["cam"], T0, END, tmp_path, shard=timedelta(seconds=4), executor=pool
        )
    assert len(result.shards) == 30 and result.failed == []
    assert all(r.attempts == 1 for r in result.shards)
    assert emulator.throttled_count < 10, emulator.throttled_count  # unpaced: dozens


def test_an_empty_stream_gives_no_shard(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """A stream without fragments in the range adds no row; the others are exported."""
    emulator.add_stream("empty", fragment_count=2, start=T0 - timedelta(days=1))
    result = kvarchive.export(
        emulator.client(), [*streams, "empty"], T0, END, tmp_path, shard=SHARD
    )
    assert {r["stream"] for r in rows(tmp_path)} == {"cam", "door"} and len(result.shards) == 5


def test_streams_by_arn_and_name_are_one_each(emulator: Emulator, tmp_path: Path) -> None:
    """A stream named twice, once by ARN, is exported once, into the folder of its name."""
    stream = emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    result = kvarchive.export(emulator.client(), [stream.arn, "cam"], T0, END, tmp_path)
    assert [r.shard.file for r in result.shards] == ["cam/20260101T120000Z.mkv"]


@pytest.mark.parametrize(
    ("streams", "start", "end", "shard", "executor"),
    [
        ([], T0, END, SHARD, None),
        (["bad name!"], T0, END, SHARD, None),
        (["cam"], END, T0, SHARD, None),
        (["cam"], T0, END, 0, None),
        (["cam"], T0, END, SHARD, "not an executor"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    emulator: Emulator,
    tmp_path: Path,
    streams: list[str],
    start: datetime,
    end: datetime,
    shard: object,
    executor: object,
) -> None:
    """No stream, a bad name, end before start, a zero shard or an executor without submit()
    is a ValidationError, raised before any request."""
    emulator.add_stream("cam", fragment_count=3, start=T0)
    with pytest.raises(ValidationError):
        kvarchive.export(
            emulator.client(),
            streams,
            start,
            end,
            tmp_path,
            shard=shard,
            executor=executor,  # type: ignore[arg-type]
        )
    assert emulator.count() == 0


def test_keys_set_in_code_stop_a_process_export_before_it_starts(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """A client that refuses to pickle stops an export on processes at once, with its reason."""
    session = boto3.Session(aws_access_key_id="AKIACODE", aws_secret_access_key="code-secret")
    kv = ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url)
    with processes(1) as pool, pytest.raises(UsageError, match="pickle_without_keys"):
        kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD, executor=pool)
    assert emulator.count() == 0


def test_no_pickle_of_an_export_holds_a_secret(
    emulator: Emulator, streams: list[str], tmp_path: Path
) -> None:
    """The planted credentials are in no pickle of the client, a shard or a result, nor in the
    manifest or a result's repr."""
    kv = ArchivedMediaClient(endpoint_url=emulator.endpoint_url, backoff=Backoff(attempts=3))
    result = kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    texts = [pickle.dumps(kv), pickle.dumps(result.shards[0].shard), pickle.dumps(result.shards[0])]
    texts += [
        pickle.dumps(result),
        repr(result).encode(),
        (tmp_path / "manifest.jsonl").read_bytes(),
    ]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert all(os.environ[name].encode() not in text for text in texts), name
