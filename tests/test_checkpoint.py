"""Checkpoints: a local file replaced atomically, and one S3 object written conditionally (moto server)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from kvarchive import (
    Checkpoint,
    CheckpointConflictError,
    CheckpointError,
    FileCheckpoint,
    KVArchiveError,
    S3Checkpoint,
    ServiceError,
)

# -- FileCheckpoint ---------------------------------------------------------------------


def test_file_checkpoint_is_empty_until_saved(tmp_path: Path) -> None:
    """A file that does not exist holds no state; a saved one gives back exactly what was saved."""
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    assert checkpoint.load() is None
    checkpoint.save('{"a": 1}')
    checkpoint.save('{"a": 2}')
    assert checkpoint.load() == '{"a": 2}'
    assert isinstance(checkpoint, Checkpoint)


def test_file_checkpoint_creates_its_folder_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Saving into a missing folder creates it; only the checkpoint itself remains there."""
    path = tmp_path / "missing" / "deeper" / "cam.json"
    FileCheckpoint(str(path)).save("{}")
    assert sorted(os.listdir(path.parent)) == ["cam.json"]


def test_file_checkpoint_honours_the_umask(tmp_path: Path) -> None:
    """The file gets the permissions open() would give it, not a temporary file's 0600."""
    mask = os.umask(0o022)
    try:
        FileCheckpoint(tmp_path / "cam.json").save("{}")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "cam.json").stat().st_mode) == 0o644


def test_a_failed_save_says_why_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """A save whose folder cannot be made (a file is in the way) raises CheckpointError."""
    (tmp_path / "state").write_text("a file, not a folder")
    with pytest.raises(CheckpointError, match="cannot save"):
        FileCheckpoint(tmp_path / "state" / "cam.json").save("state")
    assert os.listdir(tmp_path) == ["state"]


def test_an_unreadable_file_checkpoint_is_a_checkpoint_error(tmp_path: Path) -> None:
    """A folder where the file should be is reported as a CheckpointError naming the path."""
    (tmp_path / "cam.json").mkdir()
    with pytest.raises(CheckpointError, match=r"cam\.json"):
        FileCheckpoint(tmp_path / "cam.json").load()


# -- S3Checkpoint -----------------------------------------------------------------------


def test_s3_checkpoint_is_empty_until_saved(s3_bucket: tuple[Any, str]) -> None:
    """A missing object holds no state; saves replace the one object, read back whole."""
    client, bucket = s3_bucket
    checkpoint = S3Checkpoint(bucket, "follow/cam.json", client=client)
    assert checkpoint.load() is None
    checkpoint.save('{"n": 1}')
    checkpoint.save('{"n": 2}')
    assert checkpoint.load() == '{"n": 2}'
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["follow/cam.json"]
    head = client.head_object(Bucket=bucket, Key="follow/cam.json")
    assert head["ContentType"] == "application/json"


def test_two_followers_cannot_both_advance_one_s3_checkpoint(s3_bucket: tuple[Any, str]) -> None:
    """Of two checkpoints that loaded the same state, the second to save loses (If-Match)."""
    client, bucket = s3_bucket
    S3Checkpoint(bucket, "cam.json", client=client).save("start")
    first = S3Checkpoint(bucket, "cam.json", client=client)
    second = S3Checkpoint(bucket, "cam.json", client=client)
    assert first.load() == second.load() == "start"
    first.save("first moved on")
    with pytest.raises(CheckpointConflictError, match="changed since"):
        second.save("second moved on")
    assert first.load() == "first moved on"
    first.save("first again")  # the winner goes on with the ETag it wrote


def test_the_first_write_loses_if_the_object_appeared_meanwhile(s3_bucket: tuple[Any, str]) -> None:
    """Two fresh followers: the one that creates the object second gets a conflict (If-None-Match)."""
    client, bucket = s3_bucket
    first = S3Checkpoint(bucket, "cam.json", client=client)
    second = S3Checkpoint(bucket, "cam.json", client=client)
    assert first.load() is None and second.load() is None
    first.save("first")
    with pytest.raises(CheckpointConflictError, match="created by someone else"):
        second.save("second")
    assert issubclass(CheckpointConflictError, KVArchiveError)


def test_a_deleted_object_is_a_conflict(s3_bucket: tuple[Any, str]) -> None:
    """If the object was deleted after it was read, saving does not recreate it silently."""
    client, bucket = s3_bucket
    checkpoint = S3Checkpoint(bucket, "cam.json", client=client)
    checkpoint.save("one")
    client.delete_object(Bucket=bucket, Key="cam.json")
    with pytest.raises(CheckpointConflictError):
        checkpoint.save("two")


def test_unconditional_writes_let_the_last_writer_win(s3_bucket: tuple[Any, str]) -> None:
    """conditional=False sends neither condition, for stores that do not support them."""
    client, bucket = s3_bucket
    first = S3Checkpoint(bucket, "cam.json", client=client, conditional=False)
    second = S3Checkpoint(bucket, "cam.json", client=client, conditional=False)
    first.save("first")
    second.save("second")
    assert first.load() == "second"


def test_a_missing_bucket_is_a_checkpoint_error_with_the_code(moto_server_url: str) -> None:
    """S3's error comes back as a CheckpointError whose cause, a ServiceError, keeps S3's code,
    status and request id (and botocore's ClientError as its own cause)."""
    client = boto3.client("s3", endpoint_url=moto_server_url, region_name="us-east-1")
    checkpoint = S3Checkpoint("kvarchive-no-such-bucket", "cam.json", client=client)
    for call in (checkpoint.load, lambda: checkpoint.save("{}")):
        with pytest.raises(CheckpointError, match="NoSuchBucket") as caught:
            call()
        cause = caught.value.__cause__
        assert isinstance(cause, ServiceError)
        assert (cause.code, cause.status_code) == ("NoSuchBucket", 404)
        assert cause.request_id
        assert isinstance(cause.__cause__, ClientError)


def test_a_concurrent_conditional_write_is_retried() -> None:
    """S3's 409 ConditionalRequestConflict (a write in flight) is retried, then succeeds."""
    client = boto3.client("s3", region_name="us-east-1")
    checkpoint = S3Checkpoint("bucket", "cam.json", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
        expected = {"Bucket": "bucket", "Key": "cam.json", "Body": b"state"}
        expected.update(ContentType="application/json", IfNoneMatch="*")
        stub.add_response("put_object", {"ETag": '"abc"'}, expected)
        checkpoint.save("state")
        stub.assert_no_pending_responses()


def test_repr_names_bucket_and_key_only(s3_bucket: tuple[Any, str]) -> None:
    """The repr shows where the checkpoint is, and nothing of the client."""
    client, bucket = s3_bucket
    assert (
        repr(S3Checkpoint(bucket, "k.json", client=client)) == f"S3Checkpoint({bucket!r}, 'k.json')"
    )
