"""The values kvarchive returns: frozen, slotted attrs classes.

``__init__`` takes plain values, so tests and users can build models
directly; ``from_api`` reads the service's response shapes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Optional, Union

import attrs

from ._errors import WrongEndpointError
from ._links import S3Linked
from ._times import from_epoch, to_utc

__all__ = [
    "DownloadResult",
    "Fragment",
    "FragmentList",
    "Image",
    "MediaFragment",
    "fragment_sort_key",
]


def _utc(value: Union[datetime, int, float]) -> datetime:
    """A response timestamp as an aware UTC datetime: botocore's datetime or epoch seconds."""
    if isinstance(value, datetime):
        return to_utc(value)
    return from_epoch(value)


@functools.lru_cache(maxsize=4096)
def _milliseconds(value: int) -> timedelta:
    # Fragments mostly share a handful of durations: one object each saves memory.
    return timedelta(milliseconds=value)


def _size_repr(data: Optional[bytes]) -> str:
    return "None" if data is None else f"<{len(data)} bytes>"


@attrs.frozen
class Fragment:
    """One archived fragment, as ListFragments describes it."""

    number: str
    size: int
    producer_timestamp: datetime
    server_timestamp: datetime
    duration: timedelta

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Fragment:
        """Build from one entry of ListFragments' ``Fragments``."""
        try:
            return cls(
                number=item["FragmentNumber"],
                size=item["FragmentSizeInBytes"],
                producer_timestamp=_utc(item["ProducerTimestamp"]),
                server_timestamp=_utc(item["ServerTimestamp"]),
                duration=_milliseconds(item["FragmentLengthInMilliseconds"]),
            )
        except KeyError as exc:
            raise _missing("ListFragments", exc) from None


class FragmentList(list[Fragment]):
    """A plain list of fragments that renders as a table in Jupyter."""

    def to_pandas(self) -> Any:
        """The fragments as a pandas DataFrame (needs ``pip install "kvarchive[pandas]"``)."""
        from ._notebook import fragments_frame

        return fragments_frame(self)

    def _repr_html_(self) -> str:
        from ._notebook import FRAGMENT_COLUMNS, fragment_rows, html_table

        return html_table(FRAGMENT_COLUMNS, fragment_rows(self), total=len(self))


def fragment_sort_key(timestamp_type: str) -> Any:
    """Order fragments by the selected timestamp, then by number as an integer."""
    if timestamp_type == "PRODUCER_TIMESTAMP":
        return lambda f: (f.producer_timestamp, int(f.number))
    return lambda f: (f.server_timestamp, int(f.number))


@attrs.frozen
class Image:
    """One sampled image from GetImages: its bytes, or why there are none."""

    timestamp: datetime
    data: Optional[bytes] = attrs.field(default=None, repr=_size_repr)
    error: Optional[str] = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Image:
        """Build from one entry of GetImages' ``Images`` (``ImageContent`` is base64)."""
        content = item.get("ImageContent")
        data = None
        if content:
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise WrongEndpointError(
                    f"GetImages returned ImageContent that is not base64: {exc}",
                    code="InvalidResponse",
                    operation="GetImages",
                ) from None
        try:
            timestamp = to_utc(item["TimeStamp"])
        except KeyError as exc:
            raise _missing("GetImages", exc) from None
        return cls(timestamp=timestamp, data=data, error=item.get("Error"))

    def _repr_jpeg_(self) -> Optional[bytes]:
        return self.data if self.data and self.data.startswith(b"\xff\xd8") else None

    def _repr_png_(self) -> Optional[bytes]:
        return self.data if self.data and self.data.startswith(b"\x89PNG") else None


@attrs.frozen
class MediaFragment:
    """One fragment of a media body: its complete Matroska bytes and every tag.

    ``tag_list`` holds every SimpleTag as ``(name, value)`` in file order,
    repeated names kept; ``tags`` is the same as a dict (the last value of a
    name wins). A fragment from the service always has its number and
    timestamps; one from a local file without those AWS tags has None there.
    """

    number: Optional[str]
    server_timestamp: Optional[datetime]
    producer_timestamp: Optional[datetime]
    data: bytes = attrs.field(repr=_size_repr)
    tags: dict[str, str] = attrs.field(factory=dict, hash=False)
    tag_list: list[tuple[str, str]] = attrs.field(factory=list, hash=False, repr=False)


@attrs.frozen
class DownloadResult(S3Linked):
    """What ``download()`` wrote: a local path, or an ``s3://`` URL (see ``presigned_url``)."""

    path: Union[str, os.PathLike[str]]
    fragment_count: int
    bytes_written: int
    _s3: Any = attrs.field(default=None, eq=False, repr=False, kw_only=True)


def _missing(operation: str, exc: KeyError) -> WrongEndpointError:
    return WrongEndpointError(
        f"{operation} answered without {exc.args[0]!r}; was the call sent to the wrong endpoint?",
        code="InvalidResponse",
        operation=operation,
    )
