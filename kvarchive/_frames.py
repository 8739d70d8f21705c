"""Fragments held in memory: their frames, and their parts for joining.

Both walk the fragment with :class:`~kvarchive._mkv.FragmentScanner`, so they
accept exactly what it accepts and raise MediaParseError on the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Optional

import attrs

from kvarchive._ebml import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    EBML,
    INFO,
    REFERENCE_BLOCK,
    SIMPLE_BLOCK,
    TIMECODE,
    TRACKS,
    UNKNOWN_SIZE,
    read_size,
)
from kvarchive._elements import (
    DEFAULT_TIMECODE_SCALE,
    Buffer,
    children,
    name_of,
    read_timecode_scale,
    read_uint,
)
from kvarchive._errors import MediaParseError
from kvarchive._mkv import scan_elements

__all__ = ["FragmentParts", "Frame", "iter_frames", "split_fragment"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@attrs.frozen
class Frame:
    """One frame (a SimpleBlock or a BlockGroup's Block) of a fragment.

    ``time_ns`` is (Cluster Timecode + the block's relative timecode) times
    TimecodeScale: nanoseconds from the Segment's time origin, which KVS sets
    to the Unix epoch (producer time). ``keyframe`` is the SimpleBlock flag, or
    for a Block the absence of a ReferenceBlock. Laced blocks are not split:
    ``data`` is then the whole laced payload, lace sizes included, and
    ``laced`` is True.
    """

    track: int
    time_ns: int
    keyframe: bool
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    laced: bool = False

    @property
    def timestamp(self) -> timedelta:
        """``time_ns`` as a timedelta (whole microseconds, rounded down)."""
        return timedelta(microseconds=self.time_ns // 1000)

    @property
    def utc_time(self) -> datetime:
        """``timestamp`` after the Unix epoch, as an aware UTC datetime (KVS producer time)."""
        return _EPOCH + self.timestamp


def _frame(
    data: bytes,
    start: int,
    end: int,
    *,
    offset: int,
    cluster_time: Optional[int],
    scale: int,
    keyframe: Optional[bool] = None,
) -> Frame:
    """The Frame of a (Simple)Block payload ``data[start:end]``; ``offset`` for errors."""
    if cluster_time is None:
        raise MediaParseError("block before the Cluster's Timecode", offset)
    try:
        track, width = read_size(data, start)
    except ValueError:
        raise MediaParseError("invalid track number in a block", offset) from None
    body = start + width + 3
    if not width or track == UNKNOWN_SIZE or body > end:
        raise MediaParseError("block too short", offset)
    relative = int.from_bytes(data[start + width : start + width + 2], "big", signed=True)
    flags = data[start + width + 2]
    return Frame(
        track,
        (cluster_time + relative) * scale,
        bool(flags & 0x80) if keyframe is None else keyframe,
        data[body:end],
        laced=bool(flags & 0x06),
    )


def iter_frames(fragment: Buffer) -> Iterator[Frame]:
    """Yield the frames of fragments held in memory, in stream order.

    The whole input is validated (as by :class:`FragmentScanner`) before the
    first frame, so malformed or truncated input raises MediaParseError at once.
    """
    data = bytes(fragment)
    events, _ = scan_elements(data)
    scale = DEFAULT_TIMECODE_SCALE
    cluster_time: Optional[int] = None
    for depth, element_id, start, header, size in events:
        payload, end = start + header, start + header + size
        if depth == 0 and element_id == EBML:
            scale = DEFAULT_TIMECODE_SCALE
        elif depth == 1 and element_id == INFO:
            scale = read_timecode_scale(data, payload, end, 0)
        elif depth == 1 and element_id == CLUSTER:
            cluster_time = None
        elif depth == 2 and element_id == TIMECODE:
            cluster_time = read_uint(data, payload, end, start)
        elif depth == 2 and element_id == SIMPLE_BLOCK:
            yield _frame(data, payload, end, offset=start, cluster_time=cluster_time, scale=scale)
        elif depth == 2 and element_id == BLOCK_GROUP:
            block: Optional[tuple[int, int]] = None
            referenced = False
            for child_id, child, child_end in children(data, payload, end, 0):
                if child_id == BLOCK:
                    block = (child, child_end)
                elif child_id == REFERENCE_BLOCK:
                    referenced = True
            if block is None:
                raise MediaParseError("BlockGroup without a Block", start)
            yield _frame(
                data,
                *block,
                offset=start,
                cluster_time=cluster_time,
                scale=scale,
                keyframe=not referenced,
            )


def _parts_repr(parts: tuple[tuple[int, bytes], ...]) -> str:
    return "(" + ", ".join(f"{name_of(i)} <{len(b)} bytes>" for i, b in parts) + ")"


@attrs.frozen
class FragmentParts:
    """One fragment cut into the pieces a writer of a single playable file needs.

    ``ebml_header`` is the whole EBML header element, ``segment_header`` the
    Segment's ID and size field as found, ``children`` every element of the
    Segment as ``(ID, bytes)`` in order. ``to_bytes()`` gives back the input.
    """

    ebml_header: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    segment_header: bytes
    children: tuple[tuple[int, bytes], ...] = attrs.field(repr=_parts_repr)

    def _child(self, element_id: int) -> Optional[bytes]:
        return next((data for i, data in self.children if i == element_id), None)

    @property
    def info(self) -> Optional[bytes]:
        """The Info element (bytes), or None."""
        return self._child(INFO)

    @property
    def tracks(self) -> Optional[bytes]:
        """The Tracks element (bytes), or None."""
        return self._child(TRACKS)

    @property
    def body(self) -> list[bytes]:
        """Every child of the Segment but Info and Tracks (Tags, Clusters, ...), in order.

        A SeekHead or Cues (KVS writes neither) hold positions that do not
        survive joining; filter ``children`` by ID to drop them.
        """
        return [data for i, data in self.children if i not in (INFO, TRACKS)]

    def to_bytes(self) -> bytes:
        """The fragment's bytes, reassembled."""
        return self.ebml_header + self.segment_header + b"".join(d for _, d in self.children)


def split_fragment(fragment: Buffer) -> FragmentParts:
    """Cut one complete fragment (a Matroska document) into its parts.

    Raises MediaParseError if the input is malformed, truncated, or not
    exactly one fragment.
    """
    data = bytes(fragment)
    events, fragments = scan_elements(data)
    if len(fragments) != 1:
        where = fragments[1].start if len(fragments) > 1 else 0
        raise MediaParseError(f"expected one fragment, found {len(fragments)}", where)
    tops = [event for event in events if event[0] == 0]
    (_, _, ebml, ebml_header, ebml_size), (_, _, segment, segment_header, _) = tops
    starts = [(element_id, start) for depth, element_id, start, _, _ in events if depth == 1]
    ends = [start for _, start in starts[1:]] + [len(data)]
    return FragmentParts(
        data[ebml : ebml + ebml_header + ebml_size],
        data[segment : segment + segment_header],
        tuple((i, data[start:end]) for (i, start), end in zip(starts, ends)),
    )
