"""Where output goes, a local path or an ``s3://bucket/key`` URL, behind one set of functions.

Every writer (downloads, clips, export shards and manifest, the command
line's files) names its output with a string and asks here to check it, to
join names under a folder, and to open a file that appears only when whole:
a local file through ``_files.atomic_file`` (a temporary name, renamed at the
end), an S3 object through ``_aws.s3_upload`` (a multipart upload, completed
at the end). Checks come before any media request: a folder-looking key
where a file is meant, or ``s3://`` without a bucket, is a ValidationError;
a bucket that is missing or refuses writes fails naming it. The S3 client
comes from ``s3``, a callable that returns it (the client's boto3 session).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from typing import Any, BinaryIO, Callable, Optional, cast

import attrs

from ._aws.s3 import S3Object
from ._aws.s3_upload import S3Upload, check_writable, object_digest, presign
from ._errors import ValidationError
from ._files import PathLike, atomic_file, file_sha256, output_file, output_folder

__all__ = [
    "S3Factory",
    "S3Url",
    "check_file",
    "check_folder",
    "is_s3",
    "join",
    "open_file",
    "presigned",
    "read_bytes",
    "spool_folder",
    "stored_digest",
]

S3Factory = Callable[[], Any]
"""Returns the S3 client to use (made on first call, from the client's boto3 session)."""

_SCHEME = "s3://"
_PROBE = ".kvarchive-write-check"  # the key a folder's write check starts (and aborts) an upload at
_CONTENT_TYPES = {
    ".mkv": "video/x-matroska",
    ".mp4": "video/mp4",
    ".wav": "audio/wav",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".jsonl": "application/x-ndjson",
    ".json": "application/json",
}


@attrs.frozen
class S3Url:
    """An S3 location: ``bucket`` and ``key`` (a prefix, or "" for the bucket, when a folder)."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, where: PathLike) -> Optional[S3Url]:
        """The location ``where`` names, or None if it is a local path."""
        text = os.fspath(where)
        if not text.startswith(_SCHEME):
            return None
        bucket, _, key = text[len(_SCHEME) :].partition("/")
        if not bucket:
            raise ValidationError(f"an s3:// URL must name a bucket: {text!r}")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.key}" if self.key else f"{_SCHEME}{self.bucket}"


def is_s3(where: PathLike) -> bool:
    """Whether ``where`` is an ``s3://`` URL."""
    return os.fspath(where).startswith(_SCHEME)


def check_file(where: PathLike, s3: S3Factory) -> str:
    """``where`` checked as a file to write: an absolute path (its folder made), or an S3 URL."""
    url = S3Url.parse(where)
    if url is None:
        return output_file(where)
    if not url.key or url.key.endswith("/"):
        raise ValidationError(f"an S3 URL must name an object, not a folder: {str(where)!r}")
    check_writable(s3(), url.bucket, url.key)
    return str(url)


def check_folder(where: PathLike, s3: S3Factory) -> str:
    """``where`` checked as a folder to write in: an absolute path (made), or an S3 prefix URL."""
    url = S3Url.parse(where)
    if url is None:
        return output_folder(where)
    prefix = url.key.rstrip("/")
    check_writable(s3(), url.bucket, posixpath.join(prefix, _PROBE) if prefix else _PROBE)
    return str(S3Url(url.bucket, prefix))


def join(folder: str, *names: str) -> str:
    """``names`` (``/`` between parts) under a checked folder, local or S3."""
    parts = [part for name in names for part in name.split("/")]
    if is_s3(folder):
        return "/".join([folder, *parts])
    return os.path.join(folder, *parts)


@contextlib.contextmanager
def open_file(where: PathLike, s3: S3Factory) -> Iterator[BinaryIO]:
    """A new file that appears at ``where`` only if the ``with`` block succeeds.

    On any failure, Ctrl-C included, the local temporary file is removed or
    the S3 upload aborted (no object, no parts kept); an existing file or
    object is then left as it was.
    """
    url = S3Url.parse(where)
    if url is None:
        with atomic_file(where) as out:
            yield out
        return
    content_type = _CONTENT_TYPES.get(posixpath.splitext(url.key)[1], "application/octet-stream")
    upload = S3Upload(s3(), url.bucket, url.key, content_type=content_type)
    try:
        yield cast(BinaryIO, upload)
        upload.complete()
    except BaseException:
        upload.abort()
        raise


def spool_folder(where: PathLike) -> Optional[str]:
    """Where a download to ``where`` spools batches waiting their turn: beside it, or in /tmp."""
    if is_s3(where):
        return None
    return os.path.dirname(os.path.abspath(os.fspath(where)))


def stored_digest(where: PathLike, s3: S3Factory) -> Optional[tuple[int, str]]:
    """The size and SHA-256 of what is stored at ``where``, or None if nothing is.

    A local file's is its SHA-256 in hex, read from disk; an S3 object's is
    S3's own ``ChecksumSHA256`` (HeadObject: nothing is downloaded), which
    for a multipart object is S3's checksum of its parts' checksums (``...-N``).
    """
    url = S3Url.parse(where)
    if url is None:
        path = os.fspath(where)
        try:
            size = os.path.getsize(path)
        except OSError:
            return None
        return size, file_sha256(path)
    return object_digest(s3(), url.bucket, url.key)


def read_bytes(where: PathLike, s3: S3Factory) -> Optional[bytes]:
    """The whole content of a small file or object, or None if there is none."""
    url = S3Url.parse(where)
    if url is None:
        try:
            with open(where, "rb") as file:
                return file.read()
        except FileNotFoundError:
            return None
    found = S3Object(url.bucket, url.key, s3()).get()
    return None if found is None else found[0]


def presigned(where: PathLike, s3: S3Factory, seconds: int) -> Optional[str]:
    """A link that GETs the S3 object ``where`` for ``seconds``; None if ``where`` is local."""
    url = S3Url.parse(where)
    if url is None:
        return None
    return presign(s3(), url.bucket, url.key, seconds)
