"""Checkpoints: where a follower keeps its position between runs.

A checkpoint is anything with ``load() -> str | None`` and ``save(state)``;
the state is a small JSON text (see ``kvarchive._follow_state``). Both given
here write atomically: a reader sees the old state or the new, never a mix.
S3's and DynamoDB's calls go through the AWS edge (``_aws.s3``,
``_aws.dynamodb``), whose errors this module turns into CheckpointError.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional, Protocol, Union, runtime_checkable

from ._aws.dynamodb import DynamoDBItem, default_dynamodb, lost
from ._aws.s3 import S3Object, lost_race
from ._errors import CheckpointConflictError, CheckpointError, KVArchiveError, ServiceError
from ._files import atomic_file

__all__ = ["Checkpoint", "DynamoDBCheckpoint", "FileCheckpoint", "S3Checkpoint"]


@runtime_checkable
class Checkpoint(Protocol):
    """Keeps a follower's state between runs: ``load()`` gives it (None at first), ``save()``."""

    def load(self) -> Optional[str]: ...

    def save(self, state: str) -> None: ...


class FileCheckpoint:
    """A checkpoint in a local file, replaced atomically and flushed to disk on every save.

    The folder is created if missing. One follower per file: files offer no
    conditional write (use S3Checkpoint to detect a second follower).
    """

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None:
        self.path = os.fspath(path)

    def load(self) -> Optional[str]:
        """The saved state, or None if the file does not exist."""
        try:
            with open(self.path, encoding="utf-8") as file:
                return file.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read the checkpoint {self.path!r}: {exc}") from exc

    def save(self, state: str) -> None:
        """Write ``state`` to a temporary file, fsync, rename it over the file, fsync the folder."""
        try:
            with atomic_file(self.path) as out:
                out.write(state.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            _fsync_folder(os.path.dirname(os.path.abspath(self.path)))
        except KVArchiveError as exc:  # the folder cannot be made or written: the path is named
            raise CheckpointError(f"cannot save the checkpoint: {exc}") from exc
        except OSError as exc:
            raise CheckpointError(f"cannot save the checkpoint {self.path!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"FileCheckpoint({self.path!r})"


def _fsync_folder(folder: str) -> None:
    """Make a rename inside ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class S3Checkpoint:
    """A checkpoint in one S3 object, written only if nobody else wrote it since we read it.

    Each save is a conditional PutObject: ``If-Match`` with the ETag this
    object last loaded or saved, or ``If-None-Match: *`` when there was no
    object, so that of two followers of one stream only one can advance it;
    the other gets CheckpointConflictError. S3 honours both conditions on
    general purpose buckets; ``conditional=False`` leaves them out for stores
    that reject them (the last writer then wins). ``client`` is a boto3 S3
    client (default: ``boto3.client("s3")``, made on first use). S3's errors
    are CheckpointErrors whose cause, a ServiceError, keeps S3's code and
    request id.
    """

    def __init__(
        self, bucket: str, key: str, *, client: Any = None, conditional: bool = True
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.conditional = conditional
        self._object = S3Object(bucket, key, client)
        self._etag: Optional[str] = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    def load(self) -> Optional[str]:
        """The saved state, or None if the object does not exist (GetObject)."""
        with self._lock:
            try:
                found = self._object.get()
                if found is None:
                    self._etag = None
                    return None
                data, etag = found
                text = data.decode("utf-8")
            except (KVArchiveError, UnicodeDecodeError) as exc:
                raise CheckpointError(f"cannot read {self.url}: {exc}") from exc
            self._etag = etag
            return text

    def save(self, state: str) -> None:
        """Write ``state`` if the object is still as last loaded or saved (conditional PutObject).

        Raises CheckpointConflictError if it changed (or appeared, or went) meanwhile.
        """
        with self._lock:
            condition: dict[str, Any] = {}
            if self.conditional:
                condition = {"if_match": self._etag, "if_none_match": self._etag is None}
            try:
                data = state.encode("utf-8")
                self._etag = self._object.put(data, content_type="application/json", **condition)
            except ServiceError as exc:
                if lost_race(exc):
                    raise CheckpointConflictError(self._conflict(exc.code)) from exc
                raise CheckpointError(f"cannot save {self.url}: {exc}") from exc
            except KVArchiveError as exc:
                raise CheckpointError(f"cannot save {self.url}: {exc}") from exc

    def _conflict(self, code: str) -> str:
        if self._etag is None:
            return (
                f"{self.url} was created by someone else after this follower found none "
                f"({code}): another follower of the stream is running"
            )
        return (
            f"{self.url} changed since this follower last read or wrote it ({code}): "
            "another follower of the stream is running, or the object was edited or deleted"
        )

    def __repr__(self) -> str:
        return f"S3Checkpoint({self.bucket!r}, {self.key!r})"


class DynamoDBCheckpoint:
    """A checkpoint in one DynamoDB item, written only if nobody else wrote it since we read it.

    The table's partition key is the string attribute ``key_attribute`` (no
    sort key); the item ``key`` holds the state and a version. Each save is a
    conditional PutItem on the version last loaded or saved (or on there
    being no item), so that of two followers of one stream only one can
    advance it; the other gets CheckpointConflictError. ``client`` is a boto3
    DynamoDB client; by default, given to ``follow()``, the follower's client
    lends one from its boto3 session, else boto3's default session makes one
    (``AWS_ENDPOINT_URL_DYNAMODB`` honoured either way). DynamoDB's errors
    are CheckpointErrors whose cause, a ServiceError, keeps its code and
    request id.
    """

    def __init__(
        self, table: str, key: str, *, client: Any = None, key_attribute: str = "key"
    ) -> None:
        self.table = table
        self.key = key
        self.key_attribute = key_attribute
        self._client = client
        self._item = DynamoDBItem(table, key, key_attribute, self._dynamodb)
        self._version: Optional[int] = None
        self._lock = threading.Lock()

    def load(self) -> Optional[str]:
        """The saved state, or None if there is no item (a strongly consistent GetItem)."""
        with self._lock:
            try:
                found = self._item.get()
            except KVArchiveError as exc:
                raise CheckpointError(f"cannot read {self._where}: {exc}") from exc
            self._version = None if found is None else found[1]
            return None if found is None else found[0]

    def save(self, state: str) -> None:
        """Write ``state`` if the item is still as last loaded or saved (conditional PutItem).

        Raises CheckpointConflictError if it changed (or appeared, or went) meanwhile.
        """
        with self._lock:
            try:
                self._version = self._item.put(state, self._version)
            except ServiceError as exc:
                if lost(exc):
                    raise CheckpointConflictError(
                        f"{self._where} changed since this follower last read or wrote it: "
                        "another follower of the stream is running, or the item was edited"
                    ) from exc
                raise CheckpointError(f"cannot save {self._where}: {exc}") from exc
            except KVArchiveError as exc:
                raise CheckpointError(f"cannot save {self._where}: {exc}") from exc

    def use_session_client(self, make: Any) -> None:
        """Take the DynamoDB client from ``make("dynamodb")`` unless one was given (follow does)."""
        if self._client is None:
            self._client = make("dynamodb")

    @property
    def _where(self) -> str:
        return f"the item {self.key!r} of the DynamoDB table {self.table!r}"

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = default_dynamodb()
        return self._client

    def __repr__(self) -> str:
        return f"DynamoDBCheckpoint({self.table!r}, {self.key!r})"
