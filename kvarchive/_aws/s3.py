"""One S3 object, read and written whole, with S3's conditional writes (``S3Checkpoint``'s store).

Each call runs inside the error seam (``translate.translated``), so what S3
refuses comes back as a :class:`ServiceError` that keeps S3's code, message
and request id. What S3's codes mean here is said once: a missing object
reads as None, a write refused while another is in flight is tried again, and
:func:`lost_race` tells a conditional write that lost from any other failure.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from kvarchive._aws.translate import translated
from kvarchive._errors import ServiceError

__all__ = ["S3Object", "lost_race"]

# 409: another conditional write to the key is in flight; S3 asks for the write to be retried.
_IN_FLIGHT = "ConditionalRequestConflict"
_IN_FLIGHT_RETRIES = 3
_IN_FLIGHT_PAUSE = 0.2  # seconds, times the attempt
# What a conditional write that lost is told: the ETag no longer matches or the object
# appeared (412), a write in flight won (409), or the object is gone (If-Match: 404).
_LOST = frozenset({"PreconditionFailed", _IN_FLIGHT, "NoSuchKey"})


def lost_race(error: ServiceError) -> bool:
    """True when a conditional write failed because the object is no longer as it was seen."""
    return error.code in _LOST


class S3Object:
    """The object ``key`` of ``bucket``, through ``client`` (default: ``boto3.client("s3")``)."""

    def __init__(self, bucket: str, key: str, client: Any = None) -> None:
        self.bucket = bucket
        self.key = key
        self._client = client

    def get(self) -> Optional[tuple[bytes, str]]:
        """The object's bytes and ETag (GetObject), or None if there is no such object."""
        try:
            with translated("GetObject"):
                response = self._s3().get_object(Bucket=self.bucket, Key=self.key)
                with response["Body"] as body:
                    return body.read(), str(response["ETag"])
        except ServiceError as exc:
            if exc.code == "NoSuchKey":
                return None
            raise

    def put(
        self,
        data: bytes,
        *,
        content_type: str,
        if_match: Optional[str] = None,
        if_none_match: bool = False,
    ) -> str:
        """Write the object whole (PutObject) and return its new ETag.

        With ``if_match``, only if its ETag is still that; with
        ``if_none_match``, only if there is no such object yet.
        """
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "Body": data,
            "ContentType": content_type,
        }
        if if_match is not None:
            request["IfMatch"] = if_match
        if if_none_match:
            request["IfNoneMatch"] = "*"
        attempt = 0
        while True:
            try:
                with translated("PutObject"):
                    return str(self._s3().put_object(**request)["ETag"])
            except ServiceError as exc:
                attempt += 1
                if exc.code != _IN_FLIGHT or attempt > _IN_FLIGHT_RETRIES:
                    raise
            time.sleep(_IN_FLIGHT_PAUSE * attempt)

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client
