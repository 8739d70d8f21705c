"""How a parallel download cuts its batches: per connection, and within a byte budget for S3."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from kvarchive import ArchivedMediaClient, Fragment
from kvarchive._download import split_batches
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
MiB = 1 << 20


def fragments(count: int, size: int) -> list[Fragment]:
    return [
        Fragment(
            number=str(10**46 + n),
            size=size,
            producer_timestamp=T0 + timedelta(seconds=n),
            server_timestamp=T0 + timedelta(seconds=n),
            duration=timedelta(seconds=1),
        )
        for n in range(count)
    ]


def test_batches_without_a_budget_are_one_per_connection() -> None:
    """Without a byte budget, 100 fragments over 4 connections are 4 batches of 25, in order."""
    listed = fragments(100, 2 * MiB)
    batches = split_batches(listed, 4, None)
    assert [len(b) for b in batches] == [25] * 4
    assert [f for b in batches for f in b] == listed


def test_a_budget_keeps_every_batch_within_it() -> None:
    """With a budget of 12 MiB, batches of 2 MiB fragments hold 6 each, every fragment once."""
    listed = fragments(100, 2 * MiB)
    batches = split_batches(listed, 4, 12 * MiB)
    assert all(sum(f.size for f in b) <= 12 * MiB for b in batches)
    assert [f for b in batches for f in b] == listed


def test_a_fragment_larger_than_the_budget_is_a_batch_of_its_own() -> None:
    """A fragment over the budget still goes, alone in its batch."""
    listed = fragments(3, 20 * MiB)
    assert [len(b) for b in split_batches(listed, 1, 12 * MiB)] == [1, 1, 1]


def test_a_parallel_download_to_s3_spools_at_most_96_mib(
    kv: ArchivedMediaClient,
    emulator: Emulator,
    s3_bucket: tuple[Any, str],
    moto_server_url: str,
    monkeypatch: Any,
) -> None:
    """200 MB over 2 connections to S3 is fetched in batches of at most 24 MiB (96 MiB on disk)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    s3, bucket = s3_bucket
    emulator.add_stream("big", fragment_count=100, payload_size=2 * MiB, start=T0, magic="never")
    end = T0 + timedelta(hours=1)
    try:
        kv.download(
            stream_name="big", start=T0, end=end, path=f"s3://{bucket}/b.mkv", concurrency=2
        )
        calls = [r for r in emulator.requests if r.operation == "GetMediaForFragmentList"]
        assert len(calls) >= 100 * 2 * MiB // (24 * MiB)
    finally:
        s3.delete_object(Bucket=bucket, Key="b.mkv")
