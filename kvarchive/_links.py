"""Presigned links to results kept in S3: one mixin for every result that names a written file.

A result made by a writer keeps, unseen (not compared, not shown), the S3
client factory of the client that wrote it, so the link is signed with the
same session; a result built by hand, or whose writer is gone, signs with
boto3's default session.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Optional, Union

from ._aws.s3_upload import default_s3
from ._destinations import S3Factory, presigned
from ._errors import UsageError, ValidationError

__all__ = ["S3Linked", "presigned_link"]

# SigV4 presigned URLs last at most seven days.
_LONGEST = timedelta(days=7)


class S3Linked:
    """``presigned_url()`` for a result whose ``path`` is an ``s3://`` URL (mixed into models)."""

    __slots__ = ()

    path: Any
    _s3: Optional[S3Factory]

    def presigned_url(self, expires: Union[timedelta, float] = timedelta(hours=1)) -> str:
        """A URL that downloads the object without credentials until ``expires`` (1 s to 7 days).

        ``expires`` is a timedelta or seconds. A result of a local file has no
        link: UsageError.
        """
        return presigned_link(self.path, self._s3, expires)


def presigned_link(
    path: Any, s3: Optional[S3Factory], expires: Union[timedelta, float] = timedelta(hours=1)
) -> str:
    """A presigned GET URL of the S3 object ``path`` names; UsageError for a local path."""
    seconds = _seconds(expires)
    link = presigned(os.fspath(path or ""), s3 or default_s3, seconds)
    if link is None:
        raise UsageError(f"{path!r} is a local file: only S3 objects have presigned URLs")
    return link


def _seconds(expires: Union[timedelta, float]) -> int:
    if isinstance(expires, bool) or not isinstance(expires, (timedelta, int, float)):
        raise ValidationError("expires must be a timedelta or a number of seconds")
    length = expires if isinstance(expires, timedelta) else timedelta(seconds=expires)
    if not timedelta(seconds=1) <= length <= _LONGEST:
        raise ValidationError(f"expires must be between 1 second and 7 days: {length}")
    return int(length.total_seconds())
