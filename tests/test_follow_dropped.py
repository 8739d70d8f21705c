"""A follower dropped without close(): saved as an unclosed file is closed, and said so."""

from __future__ import annotations

import contextlib
import gc
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kvarchive import FileCheckpoint, S3Checkpoint, errors
from kvarchive.testing import Emulator


@contextlib.contextmanager
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning given in the block (followed by a garbage collection), in order."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
        gc.collect()


def test_a_dropped_follower_saves_the_fragment_in_hand_and_warns(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Collected unclosed, a follower saves its checkpoint at the fragment in hand, warns
    ResourceWarning naming itself, and makes no request to the stream."""
    fragments = emulator.add_stream("cam", fragment_count=6, payload_size=64).fragments
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    with emulator.client() as kv:
        follower = kv.follow(
            stream_name="cam",
            start=fragments[0].server_timestamp,
            checkpoint=checkpoint,
            poll=0.2,
            settle=0,
        )
        for _ in range(3):
            next(follower)
        requests = len(emulator.requests)
        with recorded() as caught:
            del follower
    assert len(emulator.requests) == requests
    assert json.loads(checkpoint.load() or "")["last"]["number"] == fragments[2].number
    assert [w.category for w in caught] == [ResourceWarning]
    assert str(caught[0].message).startswith("unclosed <Follower of 'cam' open")


def test_a_dropped_follower_whose_checkpoint_fails_gives_a_kvarchive_warning(
    emulator: Emulator, s3_bucket: tuple[Any, str]
) -> None:
    """An S3Checkpoint whose bucket was deleted cannot be saved when its follower is collected:
    a KVArchiveWarning names the checkpoint and S3's error, after the ResourceWarning."""
    client, bucket = s3_bucket
    fragments = emulator.add_stream("cam", fragment_count=4, payload_size=64).fragments
    checkpoint = S3Checkpoint(bucket, "follow/cam.json", client=client)
    with emulator.client() as kv:
        follower = kv.follow(
            stream_name="cam",
            start=fragments[0].server_timestamp,
            checkpoint=checkpoint,
            poll=0.2,
            settle=0,
        )
        next(follower)
        client.delete_object(Bucket=bucket, Key="follow/cam.json")
        client.delete_bucket(Bucket=bucket)
        with recorded() as caught:
            del follower
    assert [w.category for w in caught] == [ResourceWarning, errors.KVArchiveWarning]
    message = str(caught[1].message)
    assert f"S3Checkpoint({bucket!r}, 'follow/cam.json')" in message
    assert "NoSuchBucket" in message
