"""One S3 object written as it is made: a multipart upload with a SHA-256 checksum on every part.

:class:`S3Upload` is a file object (``write``, ``tell``, and ``seek`` back
into its first part, which a recording's header needs at the end). Parts of
8 MiB (64 MiB past part 2000, so that 10,000 parts reach 500 GB) go up on two
uploader threads while the caller goes on writing; one more waits for them, so
memory stays within a few parts whatever the object's size. The first part is
held until :meth:`S3Upload.complete` and uploaded last, as part 1. An object
that fits in its first part is one PutObject. The object appears only then:
:meth:`S3Upload.abort` (on any failure, Ctrl-C included) ends the multipart
upload, leaving no object and no parts. Every call goes through the error
seam, so S3's refusals keep their code and request id.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import threading
from typing import Any, Optional, Union

from kvarchive._aws.translate import translated
from kvarchive._errors import KVArchiveError, ServiceError

__all__ = ["PART_SIZE", "S3Upload", "check_writable", "default_s3", "object_digest", "presign"]

PART_SIZE = 8 << 20
_LATE_PART_SIZE = 64 << 20
_LATE_PARTS_FROM = 2000  # 2000 x 8 MiB + 8000 x 64 MiB: S3's 10,000 parts reach 500 GB
_WAITING_PARTS = 1
_UPLOADERS = 2  # parts in flight at once: S3 takes each connection's part at its own pace
_JOIN_STEP = 0.5  # seconds: a join that Ctrl-C can interrupt


def _sha256(data: Union[bytes, bytearray]) -> str:
    """A part's checksum as S3 takes it: the SHA-256 digest in base64."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def default_s3() -> Any:
    """An S3 client of boto3's default session (its own endpoint settings honoured)."""
    import boto3

    from kvarchive._aws.endpoints import s3_config

    return boto3.client("s3", config=s3_config(None))


def check_writable(s3: Any, bucket: str, key: str) -> None:
    """Fail now, naming the bucket, if ``key`` of ``bucket`` cannot be written.

    A multipart upload started and aborted at once: it needs only the
    permissions that writing needs (s3:PutObject, s3:AbortMultipartUpload),
    where HeadBucket needs s3:ListBucket, which a write-only role lacks, and
    proves no write.
    """
    try:
        with translated("CreateMultipartUpload"):
            upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")
    except ServiceError as exc:  # the same error, its code and request id kept, naming the bucket
        raise type(exc)(
            f"cannot write into the S3 bucket {bucket!r}: {exc.message}",
            code=exc.code,
            operation=exc.operation,
            status_code=exc.status_code,
            error_type=exc.error_type,
            request_id=exc.request_id,
        ) from exc.__cause__
    except KVArchiveError as exc:
        raise KVArchiveError(f"cannot write into the S3 bucket {bucket!r}: {exc}") from exc
    with translated("AbortMultipartUpload"):
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])


def object_digest(s3: Any, bucket: str, key: str) -> Optional[tuple[int, str]]:
    """The object's size and SHA-256 checksum as S3 keeps it (HeadObject), or None if missing."""
    try:
        with translated("HeadObject"):
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ServiceError as exc:
        if exc.code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head["ContentLength"]), str(head.get("ChecksumSHA256") or "")


def presign(s3: Any, bucket: str, key: str, seconds: int) -> str:
    """A URL that GETs the object without credentials for ``seconds``."""
    with translated("GetObject"):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds
        )
    return str(url)


class S3Upload:
    """A new object ``key`` of ``bucket``, written as a file; see the module."""

    def __init__(self, s3: Any, bucket: str, key: str, *, content_type: str) -> None:
        self.bucket = bucket
        self.key = key
        self.checksum: Optional[str] = None  # S3's ChecksumSHA256 of the object, once complete
        self._s3 = s3
        self._content_type = content_type
        self._first = bytearray()
        self._current = bytearray()
        self._position = 0
        self._size = 0
        self._upload_id: Optional[str] = None
        self._parts: dict[int, dict[str, Any]] = {}
        self._next_part = 2
        self._queue: queue.Queue[Optional[tuple[int, bytearray]]] = queue.Queue(_WAITING_PARTS)
        self._uploaders: list[threading.Thread] = []
        self._failure: Optional[BaseException] = None
        self._aborting = threading.Event()

    @property
    def name(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset``: the end, or anywhere in the first part (still held)."""
        if whence != 0 or not (0 <= offset <= len(self._first) or offset == self._size):
            raise OSError(f"{self.name}: only the first {len(self._first)} bytes can be rewritten")
        self._position = offset
        return offset

    def write(self, data: Any) -> int:
        """Append ``data`` (or overwrite the first part, after a seek back into it)."""
        view = memoryview(data).cast("B")
        count = len(view)
        if self._position < self._size:
            end = self._position + count
            if end > len(self._first):
                raise OSError(f"{self.name}: a write back past the first part")
            self._first[self._position : end] = view
            self._position = end
            return count
        self._raise_failure()
        if len(self._first) < PART_SIZE:
            room = PART_SIZE - len(self._first)
            self._first += view[:room]
            view = view[room:]
        while len(view):
            size = _LATE_PART_SIZE if self._next_part > _LATE_PARTS_FROM else PART_SIZE
            room = size - len(self._current)
            self._current += view[:room]
            view = view[room:]
            if len(self._current) == size:
                self._ship()
        self._size += count
        self._position = self._size
        return count

    def complete(self) -> None:
        """Upload what is left, then part 1, and make the object appear."""
        if self._upload_id is None and not self._current:
            with translated("PutObject"):
                answer = self._s3.put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=bytes(self._first),
                    ContentType=self._content_type,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=_sha256(self._first),
                )
            self.checksum = answer.get("ChecksumSHA256")
            return
        if self._current:
            self._ship()
        self._stop_uploaders()
        self._raise_failure()
        self._upload_part(1, bytes(self._first))
        parts = [self._parts[n] for n in sorted(self._parts)]
        with translated("CompleteMultipartUpload"):
            answer = self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": parts},
            )
        self.checksum = answer.get("ChecksumSHA256")

    def abort(self) -> None:
        """Give up: no object appears, and S3 keeps no part (AbortMultipartUpload)."""
        self._aborting.set()
        self._stop_uploaders()
        if self._upload_id is not None:
            with translated("AbortMultipartUpload"):
                self._s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
                )

    def _ship(self) -> None:
        """Hand the current part to the uploaders (waiting while one is queued)."""
        if self._upload_id is None:
            with translated("CreateMultipartUpload"):
                self._upload_id = self._s3.create_multipart_upload(
                    Bucket=self.bucket,
                    Key=self.key,
                    ContentType=self._content_type,
                    ChecksumAlgorithm="SHA256",
                )["UploadId"]
            self._uploaders = [
                threading.Thread(
                    target=self._upload_parts, name=f"kvarchive-s3-upload-{n}", daemon=True
                )
                for n in range(_UPLOADERS)
            ]
            for uploader in self._uploaders:
                uploader.start()
        part = (self._next_part, self._current)  # handed over whole, not copied
        self._next_part += 1
        self._current = bytearray()
        while True:
            self._raise_failure()
            try:
                self._queue.put(part, timeout=_JOIN_STEP)
                return
            except queue.Full:
                continue

    def _upload_parts(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failure is not None or self._aborting.is_set():
                continue  # drain: the caller is giving up
            try:
                self._upload_part(*item)
            except BaseException as exc:  # handed to the writing thread
                self._failure = exc

    def _upload_part(self, number: int, data: Union[bytes, bytearray]) -> None:
        checksum = _sha256(data)
        with translated("UploadPart"):
            answer = self._s3.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        self._parts[number] = {
            "PartNumber": number,
            "ETag": answer["ETag"],
            "ChecksumSHA256": checksum,
        }

    def _stop_uploaders(self) -> None:
        """Let the uploaders finish their parts and end (parts queued after a failure go unsent)."""
        uploaders, self._uploaders = self._uploaders, []
        for _ in uploaders:
            while any(u.is_alive() for u in uploaders):
                try:
                    self._queue.put(None, timeout=_JOIN_STEP)
                    break
                except queue.Full:
                    continue
        for uploader in uploaders:
            while uploader.is_alive():
                uploader.join(_JOIN_STEP)

    def _raise_failure(self) -> None:
        """Raise here, in the writing thread, what made a part's upload fail."""
        if self._failure is not None:
            raise self._failure
