"""One frame of a Matroska body, as the frame reader hands it out, and the tags beside it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs

from kvarchive._times import EPOCH

__all__ = ["DATETIME_US", "MICROSECOND", "TIMEDELTA_US", "Frame", "TagGroup"]

MICROSECOND = timedelta(microseconds=1)
# The microseconds a timedelta holds, and those from the epoch a datetime holds.
TIMEDELTA_US = (timedelta.min // MICROSECOND, timedelta.max // MICROSECOND)
DATETIME_US = (
    (datetime.min.replace(tzinfo=timezone.utc) - EPOCH) // MICROSECOND,
    (datetime.max.replace(tzinfo=timezone.utc) - EPOCH) // MICROSECOND,
)


@attrs.frozen
class Frame:
    """One frame (a SimpleBlock or a BlockGroup's Block) of a Matroska fragment.

    ``time_ns`` is (Cluster Timecode + the block's relative timecode) times
    TimecodeScale: the frame's time on its fragment's Matroska timeline.
    ``keyframe`` is the SimpleBlock flag, or for a Block the absence of a
    ReferenceBlock. Laced blocks are not split: ``data`` is then the whole
    laced payload, lace sizes included, and ``laced`` is True.

    ``utc_time`` is the frame's wall-clock time. When its fragment has a
    producer timestamp tag, it is the first such tag plus the frame's offset
    from the fragment's first Cluster Timecode: right both for producers that
    write epoch Cluster Timecodes and for those that write them relative to
    the stream's start (older SDKs). Without that tag, ``time_ns`` is read as
    time since the Unix epoch. Frames stream, so the tag must come before the
    first Cluster (as in every fragment from the service) or, in a file that
    can seek, in Tags its SeekHead points to (mkvmerge writes tags last).
    """

    track: int
    time_ns: int
    keyframe: bool
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    laced: bool = False
    # Nanoseconds from the Unix epoch to time_ns 0, as the fragment's tags place it.
    _epoch_offset_ns: int = attrs.field(default=0, repr=False)

    @property
    def timestamp(self) -> timedelta:
        """``time_ns`` as a timedelta (whole microseconds, rounded down)."""
        return timedelta(microseconds=self.time_ns // 1000)

    @property
    def utc_time(self) -> datetime:
        """The frame's wall-clock time, an aware UTC datetime (whole microseconds)."""
        return EPOCH + timedelta(microseconds=(self.time_ns + self._epoch_offset_ns) // 1000)


@attrs.frozen
class TagGroup:
    """The SimpleTags of one Tags element (name, value), in file order."""

    pairs: tuple[tuple[str, str], ...]
