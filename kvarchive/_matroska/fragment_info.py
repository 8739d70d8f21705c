"""What a fragment's tags say: :class:`FragmentInfo`, its timestamps and error chunks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

import attrs

from kvarchive._errors import ServiceError, service_error
from kvarchive._matroska.elements import DEFAULT_TIMECODE_SCALE
from kvarchive._times import EPOCH

__all__ = ["FRAGMENT_NUMBER_TAG", "FragmentInfo", "first_producer_timestamp"]


# Tag names. GetMediaForFragmentList's docs spell some of them differently from
# GetMedia and every parser; the service's bodies are read with both spellings.
FRAGMENT_NUMBER_TAG = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
_SERVER_TAGS = ("AWS_KINESISVIDEO_SERVER_TIMESTAMP", "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP")
_PRODUCER_TAGS = (
    "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP",
    "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP",
)
# GetMedia: ERROR_ID is the integer code, ERROR_CODE its text.
# GetMediaForFragmentList: EXCEPTION_ERROR_CODE is the integer code, EXCEPTION_MESSAGE the text.
_ERROR_CODE_TAGS = (
    "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE",
    "AWS_KINESISVIDEO_ERROR_ID",
    "AWS_KINESISVIDEO_ERROR_CODE",
)
_ERROR_MESSAGE_TAGS = ("AWS_KINESISVIDEO_EXCEPTION_MESSAGE", "AWS_KINESISVIDEO_ERROR_CODE")


def _first_tag(first: dict[str, str], names: tuple[str, ...]) -> Optional[str]:
    """The value of the first of ``names`` among the tags' first values."""
    for name in names:
        if name in first:
            return first[name]
    return None


# Enough digits for any time up to the year 9999; longer text is not a time (and
# int() refuses more than 4300 digits with ValueError).
_MAX_SECONDS_DIGITS = 12


def _epoch_time(text: Optional[str]) -> Optional[datetime]:
    """``"1511852109.126"`` (epoch seconds) as an aware UTC datetime.

    None if not that, or past what a datetime holds (year 9999).
    """
    if text is None:
        return None
    whole, _, fraction = text.strip().partition(".")
    if not (whole.isdigit() and whole.isascii() and fraction.isascii()):
        return None
    if fraction and not fraction.isdigit():
        return None
    if len(whole) > _MAX_SECONDS_DIGITS:
        whole = whole.lstrip("0") or "0"
        if len(whole) > _MAX_SECONDS_DIGITS:
            return None
    try:
        return EPOCH + timedelta(0, int(whole), int(fraction[:6].ljust(6, "0")))
    except OverflowError:
        return None


def first_producer_timestamp(tag_list: list[tuple[str, str]]) -> Optional[datetime]:
    """The first producer timestamp tag among ``tag_list``, or None if none is readable."""
    return _epoch_time(_first_tag(dict(reversed(tag_list)), _PRODUCER_TAGS))


@attrs.frozen
class FragmentInfo:
    """One fragment found in a media body: where it lies and what its tags say.

    ``start`` and ``end`` are body offsets (``end`` exclusive: the next EBML
    header or the end of the body). ``tag_list`` holds every SimpleTag (TagName
    and TagString, nested ones included) of every Tags element of the fragment,
    before and after its Clusters, in file order. ``tracks`` is the payload of
    its Tracks element, for telling whether two fragments share one track list.
    ``clusters`` counts its Clusters (an error chunk has none). ``first`` maps
    each tag name to its first value, from which the number and timestamps are
    read: a recording joined from many fragments holds each fragment's tags,
    and the first ones belong to its first Cluster.
    """

    start: int
    end: int
    tag_list: list[tuple[str, str]] = attrs.field(factory=list)
    tracks: Optional[bytes] = attrs.field(
        default=None, repr=lambda data: "None" if data is None else f"<{len(data)} bytes>"
    )
    timecode_scale: int = DEFAULT_TIMECODE_SCALE
    clusters: int = 0
    _first: dict[str, str] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def size(self) -> int:
        """Length of the fragment in bytes."""
        return self.end - self.start

    @property
    def tags(self) -> dict[str, str]:
        """The tags as a dict: the last value of each name."""
        return dict(self.tag_list)

    @property
    def number(self) -> Optional[str]:
        """The fragment number (``AWS_KINESISVIDEO_FRAGMENT_NUMBER``), or None."""
        return self._first.get(FRAGMENT_NUMBER_TAG)

    @property
    def server_timestamp(self) -> Optional[datetime]:
        """The server timestamp as an aware UTC datetime, or None if absent or unreadable."""
        return _epoch_time(_first_tag(self._first, _SERVER_TAGS))

    @property
    def producer_timestamp(self) -> Optional[datetime]:
        """The producer timestamp as an aware UTC datetime, or None if absent or unreadable."""
        return _epoch_time(_first_tag(self._first, _PRODUCER_TAGS))

    @property
    def error_code(self) -> Optional[str]:
        """The service's error code for an error chunk, or None."""
        return _first_tag(self._first, _ERROR_CODE_TAGS)

    @property
    def error_message(self) -> Optional[str]:
        """The service's description of the error of an error chunk, or None."""
        return _first_tag(self._first, _ERROR_MESSAGE_TAGS)

    @property
    def is_error(self) -> bool:
        """True for an error chunk: one with the service's error tags.

        A fragment that merely lacks a tag is malformed, not an error from the service.
        """
        return self.error_code is not None

    def error(self) -> Optional[ServiceError]:
        """The ServiceError an error chunk stands for (not raised), or None for media."""
        code = self.error_code
        if code is None:
            return None
        message = (
            self.error_message or f"the service sent an error chunk for fragment {self.number}"
        )
        return service_error(code, message)
