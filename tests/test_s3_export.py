"""kvarchive.export() into an S3 prefix: the local layout, and a rerun that trusts S3's checksums."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from exports import two_streams

import kvarchive
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
END = T0 + timedelta(hours=1)
SHARD = timedelta(seconds=20)


@pytest.fixture
def s3(s3_bucket: tuple[Any, str], moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3, reached through AWS_ENDPOINT_URL_S3 (workers inherit it): the client."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    return s3_bucket[0]


def objects(s3: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    """Every object under ``prefix``, by key relative to it."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        o["Key"][len(prefix) :]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listed
    }


def local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.mkv")}


def test_shards_are_the_local_files_under_the_prefix_with_the_manifest(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    """Each shard object is the local export's file of the same name; manifest.jsonl lists them."""
    bucket = s3_bucket[1]
    streams = two_streams(emulator)
    kv = emulator.client()
    kvarchive.export(kv, streams, T0, END, tmp_path, shard=SHARD)
    result = kvarchive.export(kv, streams, T0, END, f"s3://{bucket}/exp/", shard=SHARD)
    stored = objects(s3, bucket, "exp/")
    manifest = stored.pop("manifest.jsonl")
    assert stored == local_files(tmp_path)
    assert result.manifest == f"s3://{bucket}/exp/manifest.jsonl"
    rows = [json.loads(line) for line in manifest.splitlines()]
    assert [row["file"] for row in rows] == [r.shard.file for r in result.shards]
    assert [r.path for r in result.shards] == [f"s3://{bucket}/exp/{row['file']}" for row in rows]
    assert [row["bytes"] for row in rows] == [len(stored[row["file"]]) for row in rows]


def test_a_rerun_skips_every_shard_still_stored_and_fetches_a_deleted_one(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str]
) -> None:
    """Run again, no media is requested; with one object deleted, only that one is fetched."""
    bucket = s3_bucket[1]
    streams = two_streams(emulator)
    kv = emulator.client()
    where = f"s3://{bucket}/exp"
    first = kvarchive.export(kv, streams, T0, END, where, shard=SHARD)
    emulator.clear_requests()
    again = kvarchive.export(kv, streams, T0, END, where, shard=SHARD)
    assert emulator.count("GetMediaForFragmentList") == 0
    assert all(r.skipped for r in again.shards)
    s3.delete_object(Bucket=bucket, Key="exp/cam/20260101T120020Z.mkv")
    third = kvarchive.export(kv, streams, T0, END, where, shard=SHARD)
    assert emulator.count("GetMediaForFragmentList") == 1
    assert [r.shard.file for r in third.shards if not r.skipped] == ["cam/20260101T120020Z.mkv"]
    assert [r.sha256 for r in third.shards] == [r.sha256 for r in first.shards]


def test_a_shard_result_in_s3_has_a_presigned_link(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str]
) -> None:
    """ShardResult.presigned_url() of an exported shard fetches its object."""
    import urllib.request

    bucket = s3_bucket[1]
    kv = emulator.client()
    result = kvarchive.export(kv, two_streams(emulator), T0, END, f"s3://{bucket}", shard=SHARD)
    shard = result.shards[0]
    with urllib.request.urlopen(shard.presigned_url(60), timeout=30) as answer:
        data = answer.read()
    assert data == s3.get_object(Bucket=bucket, Key=shard.shard.file)["Body"].read()


def test_process_workers_write_to_s3_with_their_own_client(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str]
) -> None:
    """Spawned workers rebuild the S3 client from their own environment and write every shard."""
    bucket = s3_bucket[1]
    kv = emulator.client()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        result = kvarchive.export(
            kv, two_streams(emulator), T0, END, f"s3://{bucket}/p", shard=SHARD, executor=pool
        )
    assert not result.failed
    stored = objects(s3, bucket, "p/")
    assert sorted(stored) == sorted([r.shard.file for r in result.shards] + ["manifest.jsonl"])
