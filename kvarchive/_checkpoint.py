"""Checkpoints: where a follower keeps its position between runs.

A checkpoint is anything with ``load() -> str | None`` and ``save(state)``;
the state is a small JSON text (see ``kvarchive._follow_state``). Both given
here write atomically: a reader sees the old state or the new, never a mix.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Optional, Protocol, Union, runtime_checkable

from ._download import atomic_file
from ._errors import CheckpointConflictError, CheckpointError

__all__ = ["Checkpoint", "FileCheckpoint", "S3Checkpoint"]

# S3 answers 409 ConditionalRequestConflict while another conditional write to
# the key is in flight, and asks for a retry.
_CONFLICT_RETRIES = 3
_CONFLICT_PAUSE = 0.2


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
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, exist_ok=True)
            with atomic_file(self.path) as out:
                out.write(state.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            _fsync_folder(folder)
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
    client (default: ``boto3.client("s3")``, made on first use).
    """

    def __init__(
        self, bucket: str, key: str, *, client: Any = None, conditional: bool = True
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.conditional = conditional
        self._client = client
        self._etag: Optional[str] = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    def load(self) -> Optional[str]:
        """The saved state, or None if the object does not exist (GetObject)."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._lock:
            try:
                response = self._s3().get_object(Bucket=self.bucket, Key=self.key)
                with response["Body"] as body:
                    text: str = body.read().decode("utf-8")
            except ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    self._etag = None
                    return None
                raise CheckpointError(f"cannot read {self.url}: {_describe(exc)}") from exc
            except (BotoCoreError, UnicodeDecodeError) as exc:
                raise CheckpointError(f"cannot read {self.url}: {exc}") from exc
            self._etag = response["ETag"]
            return text

    def save(self, state: str) -> None:
        """Write ``state`` if the object is still as last loaded or saved (conditional PutObject).

        Raises CheckpointConflictError if it changed (or appeared, or went) meanwhile.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        with self._lock:
            request: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": self.key,
                "Body": state.encode("utf-8"),
                "ContentType": "application/json",
            }
            if self.conditional:
                if self._etag is None:
                    request["IfNoneMatch"] = "*"
                else:
                    request["IfMatch"] = self._etag
            for attempt in range(_CONFLICT_RETRIES + 1):
                try:
                    response = self._s3().put_object(**request)
                    break
                except ClientError as exc:
                    code = _code(exc)
                    if code == "ConditionalRequestConflict" and attempt < _CONFLICT_RETRIES:
                        time.sleep(_CONFLICT_PAUSE * (attempt + 1))
                        continue
                    if code in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
                        raise CheckpointConflictError(self._conflict(code)) from exc
                    raise CheckpointError(f"cannot save {self.url}: {_describe(exc)}") from exc
                except BotoCoreError as exc:
                    raise CheckpointError(f"cannot save {self.url}: {exc}") from exc
            self._etag = response["ETag"]

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

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def __repr__(self) -> str:
        return f"S3Checkpoint({self.bucket!r}, {self.key!r})"


def _code(exc: Any) -> str:
    error = (getattr(exc, "response", None) or {}).get("Error") or {}
    return str(error.get("Code") or "")


def _describe(exc: Any) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
    text = f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".rstrip(": ")
    return f"{text} (request id: {request_id})" if request_id else text
