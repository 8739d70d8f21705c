"""Frames: read from a Matroska body as it streams, each handed out once its bytes are in.

:func:`read_frames` walks the body with :class:`~kvarchive._matroska.scanner.FragmentScanner`,
so it accepts exactly what the scanner accepts and raises MediaParseError on
the rest. It holds no more than the element being read (one block or
BlockGroup) and what the scanner holds, so a one-document recording of
gigabytes streams in bounded memory. :func:`read_tracks_and_frames` also
gives each document's track list before its frames, for a decoder, and on
request each Tags element where it stands among them (an audio reader needs
the tags that follow a Cluster).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Callable, Optional, Union, cast

from kvarchive._errors import MediaParseError
from kvarchive._matroska.elements import (
    DEFAULT_TIMECODE_SCALE,
    Buffer,
    children,
    parse_header,
    read_seek_positions,
    read_tags,
    read_uint,
)
from kvarchive._matroska.fragment_info import first_producer_timestamp
from kvarchive._matroska.frame import DATETIME_US, MICROSECOND, TIMEDELTA_US, Frame, TagGroup
from kvarchive._matroska.ids import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    EBML,
    INFO,
    REFERENCE_BLOCK,
    SEEK_HEAD,
    SEGMENT,
    SIMPLE_BLOCK,
    TAGS,
    TIMECODE,
    TRACKS,
)
from kvarchive._matroska.scanner import DEFAULT_MAX_METADATA_SIZE, FragmentScanner
from kvarchive._matroska.tracks import Tracks, read_tracks
from kvarchive._matroska.vint import UNKNOWN_SIZE, read_size
from kvarchive._times import EPOCH

__all__ = [
    "Frame",
    "ReadAt",
    "TagGroup",
    "iter_frames",
    "iter_media_items",
    "iter_tracks_and_frames",
    "read_frames",
    "read_media_items",
    "read_tracks_and_frames",
]

_Item = Union[Frame, TagGroup]

ReadAt = Callable[[int, int], bytes]
"""Read ``size`` bytes at a body offset (fewer at the end), for a body that can seek."""


def read_frames(
    chunks: Iterable[Buffer], *, start: int = 0, read_at: Optional[ReadAt] = None
) -> Iterator[Frame]:
    """Yield the frames of a Matroska body given in chunks, in body order.

    Malformed bytes raise MediaParseError after the frames before them, so
    any chunking gives the same frames; a body that ends inside an element
    raises it at the end. ``start`` is the body offset of the first chunk.
    With ``read_at``, a producer timestamp tag that a SeekHead places after
    the first Cluster (mkvmerge writes tags last) places the frames too.
    """
    reader = _FrameReader(start, read_at)
    for chunk in chunks:
        frames, failure = reader.feed(chunk)
        yield from cast(list[Frame], frames)  # without tags=True, only frames
        if failure is not None:
            raise failure
    reader.finish()


def read_tracks_and_frames(
    chunks: Iterable[Buffer], *, start: int = 0, read_at: Optional[ReadAt] = None
) -> Iterator[Union[Tracks, Frame]]:
    """As :func:`read_frames`, with each document's track list before its first frame.

    The list is empty for a document whose Tracks does not come before its
    first Cluster (a decoder then keeps the last one).
    """
    items = _read_items(chunks, start, read_at, tags=False)
    return cast(Iterator[Union[Tracks, Frame]], items)  # without tags, no TagGroup


def read_media_items(
    chunks: Iterable[Buffer], *, start: int = 0, read_at: Optional[ReadAt] = None
) -> Iterator[Union[Tracks, Frame, TagGroup]]:
    """As :func:`read_tracks_and_frames`, with each Tags element of a Segment as a
    :class:`TagGroup` where it ends among the frames; those before a document's
    first Cluster come right after its track list."""
    return _read_items(chunks, start, read_at, tags=True)


def _read_items(
    chunks: Iterable[Buffer], start: int, read_at: Optional[ReadAt], *, tags: bool
) -> Iterator[Union[Tracks, Frame, TagGroup]]:
    reader = _FrameReader(start, read_at, tracks=True, tags=tags)
    for chunk in chunks:
        frames, failure = reader.feed(chunk)
        done = 0
        for index, tracks in reader.take_track_lists():
            yield from frames[done:index]
            yield tracks
            done = index
        yield from frames[done:]
        if failure is not None:
            raise failure
    reader.finish()


def iter_frames(fragment: Buffer, *, start: int = 0) -> Iterator[Frame]:
    """Yield the frames of fragments held in memory, in stream order.

    The whole input is validated before the first frame, so malformed or
    truncated input raises MediaParseError at once (at an offset from ``start``).
    """
    data = bytes(fragment)
    return iter(list(read_frames([data], start=start, read_at=_memory_reader(data, start))))


def iter_tracks_and_frames(fragment: Buffer, *, start: int = 0) -> Iterator[Union[Tracks, Frame]]:
    """As :func:`iter_frames`, with each document's track list before its first frame."""
    data = bytes(fragment)
    read_at = _memory_reader(data, start)
    return iter(list(read_tracks_and_frames([data], start=start, read_at=read_at)))


def iter_media_items(
    fragment: Buffer, *, start: int = 0
) -> Iterator[Union[Tracks, Frame, TagGroup]]:
    """As :func:`iter_tracks_and_frames`, with Tags as :func:`read_media_items` gives them."""
    data = bytes(fragment)
    read_at = _memory_reader(data, start)
    return iter(list(read_media_items([data], start=start, read_at=read_at)))


def _memory_reader(data: bytes, start: int) -> ReadAt:
    """Read ``data`` (whose first byte is at body offset ``start``) as a body that can seek."""

    def read_at(offset: int, size: int) -> bytes:
        return data[offset - start : offset - start + size] if offset >= start else b""

    return read_at


# What the reader noted of an element, in body order: (element ID, start, payload
# start, end, and for a Cluster the TimecodeScale and producer time in force).
_Event = tuple[int, int, int, int, Optional[tuple[int, Optional[int]]]]
_WITH_PAYLOAD = frozenset({TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP})
_MAX_HEADER = 12  # a 4-byte ID and an 8-byte size


def _tag_group(payload: bytes, offset: int) -> TagGroup:
    """The SimpleTags of a Tags element's ``payload`` (at body ``offset``, for errors)."""
    pairs: list[tuple[str, str]] = []
    read_tags(payload, 0, len(payload), offset, out=pairs)
    return TagGroup(tuple(pairs))


def _nanoseconds(when: Optional[datetime]) -> Optional[int]:
    return None if when is None else (when - EPOCH) // MICROSECOND * 1000


class _FrameReader:
    """Turns the element headers a scanner reports, and the bytes fed to it, into frames."""

    def __init__(
        self, start: int, read_at: Optional[ReadAt], *, tracks: bool = False, tags: bool = False
    ) -> None:
        self._scanner = FragmentScanner(listener=self._heard, start=start)
        self._read_at = read_at
        self._tracks = tracks  # whether to read each document's track list
        # The Segment's children whose payload is read: a SeekHead when read_at can reach the
        # Tags it points to, Tracks and Tags when asked for.
        self._segment_payloads = frozenset(
            [
                *([SEEK_HEAD] if read_at is not None else []),
                *([TRACKS] if tracks else []),
                *([TAGS] if tags else []),
            ]
        )
        self._document_tracks: Tracks = ()
        self._early_tags: list[TagGroup] = []  # a document's Tags before its first Cluster
        # Where a document's track list goes among the frames of the current feed.
        self._track_lists: list[tuple[int, Tracks]] = []
        self._events: list[_Event] = []
        self._pending: Optional[_Event] = None  # an element whose payload is still arriving
        self._held = bytearray()  # its payload so far
        self._fed = start  # body offset of the next chunk
        # The document in progress.
        self._segment_data = start  # body offset of its Segment's data, where seeks count from
        self._tags_at: list[int] = []  # where its SeekHead puts Tags
        self._scale = DEFAULT_TIMECODE_SCALE
        self._clusters = 0
        self._producer_ns: Optional[int] = None
        self._epoch_offset_ns: Optional[int] = None  # set at the first Cluster Timecode
        self._cluster_time: Optional[int] = None

    def feed(self, chunk: Buffer) -> tuple[list[_Item], Optional[MediaParseError]]:
        """The frames completed by ``chunk``, and the error that stopped it, if any."""
        frames: list[_Item] = []
        try:
            try:
                self._scanner.feed(chunk)
            finally:
                self._take(chunk, frames)  # the frames before an error are still frames
        except MediaParseError as exc:
            return frames, exc
        return frames, None

    def take_track_lists(self) -> list[tuple[int, Tracks]]:
        """The track lists of the documents begun by the last feed, each with the index
        (in that feed's frames) of the document's first frame; with ``tracks`` only."""
        lists, self._track_lists = self._track_lists, []
        return lists

    def finish(self) -> None:
        """Check that the body ends cleanly (MediaParseError if it does not)."""
        self._scanner.finish()

    def _heard(self, depth: int, element_id: int, start: int, header: int, size: int) -> None:
        if depth == 0 and element_id in (EBML, SEGMENT):
            self._events.append((element_id, start, start + header, start + header, None))
            self._scanner.metadata = frozenset({INFO, TAGS})  # for the document's first Cluster
        elif depth == 1 and element_id == CLUSTER:
            # The Info and Tags before this Cluster are read by now; the frames cannot
            # wait for Tags after it, which only a SeekHead can point to.
            current = self._scanner.current_fragment
            assert current is not None
            producer_ns = _nanoseconds(current.producer_timestamp)
            self._events.append(
                (CLUSTER, start, start, start, (current.timecode_scale, producer_ns))
            )
            self._scanner.metadata = frozenset({INFO})
        elif (depth == 1 and element_id in self._segment_payloads) or (
            depth == 2 and element_id in _WITH_PAYLOAD
        ):
            self._events.append((element_id, start, start + header, start + header + size, None))

    def _take(self, chunk: Buffer, frames: list[_Item]) -> None:
        """Act on every element noted whose bytes are all in; hold the one still arriving."""
        view = memoryview(chunk)  # slices without copies: a frame's bytes are copied once
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        base, self._fed = self._fed, self._fed + len(view)
        events, self._events = self._events, []
        if self._pending is not None:
            events.insert(0, self._pending)
            self._pending = None
        for event in events:
            payload, end = event[2], event[3]
            if end > self._fed:  # only the last element noted can still be arriving
                if payload >= base:
                    self._held = bytearray(view[payload - base :])
                else:
                    self._held += view
                self._pending = event
                return
            if payload < base:
                self._held += view[: end - base]
                held, self._held = self._held, bytearray()
                self._act(event, memoryview(held), payload, frames)
            else:
                self._act(event, view, base, frames)

    def _act(self, event: _Event, data: Buffer, base: int, frames: list[_Item]) -> None:
        """Act on one element: ``data`` holds its payload; ``base`` is data[0]'s body offset."""
        element_id, start, payload, end, cluster = event
        if element_id == EBML:
            self._clusters = 0
            self._tags_at = []
            self._document_tracks = ()
            self._early_tags = []
            self._producer_ns = self._epoch_offset_ns = self._cluster_time = None
        elif element_id == SEGMENT:
            self._segment_data = payload
        elif element_id == SEEK_HEAD:
            try:
                seeks = read_seek_positions(data, payload - base, end - base, base, TAGS)
            except MediaParseError:
                seeks = []  # only a hint: the scanner checks every element it meets
            self._tags_at += [self._segment_data + position for position in seeks]
        elif element_id == TRACKS:
            self._document_tracks = read_tracks(data[payload - base : end - base], payload)
        elif element_id == TAGS:
            group = _tag_group(bytes(data[payload - base : end - base]), payload)
            (frames if self._clusters else self._early_tags).append(group)
        elif cluster is not None:
            self._scale, producer_ns = cluster
            if not self._clusters:
                self._producer_ns = producer_ns
                if producer_ns is None:
                    self._producer_ns = self._producer_ns_after(start)
                if self._tracks:
                    self._track_lists.append((len(frames), self._document_tracks))
                frames.extend(self._early_tags)  # after the track list of their document
                self._early_tags = []
            self._clusters += 1
            self._cluster_time = None
        elif element_id == TIMECODE:
            self._cluster_time = read_uint(data, payload - base, end - base, start)
            if self._epoch_offset_ns is None:
                first = self._cluster_time * self._scale
                self._epoch_offset_ns = (
                    0 if self._producer_ns is None else self._producer_ns - first
                )
        elif element_id == SIMPLE_BLOCK:
            frames.append(self._frame(data, payload - base, end - base, start))
        else:
            block: Optional[tuple[int, int]] = None
            referenced = False
            for child_id, child, child_end in children(data, payload - base, end - base, base):
                if child_id == BLOCK:
                    block = (child, child_end)
                elif child_id == REFERENCE_BLOCK:
                    referenced = True
            if block is None:
                raise MediaParseError("BlockGroup without a Block", start)
            frames.append(self._frame(data, *block, start, keyframe=not referenced))

    def _producer_ns_after(self, cluster: int) -> Optional[int]:
        """The first producer timestamp in Tags that the SeekHead places after ``cluster``.

        Such Tags are only a hint until the scanner reaches them: any that
        cannot be read here are passed over.
        """
        read_at = self._read_at
        for position in sorted(p for p in self._tags_at if p > cluster):
            assert read_at is not None  # SeekHeads are noted only with read_at
            head = read_at(position, _MAX_HEADER)
            try:
                parsed = parse_header(head, 0, position) if head else None
            except MediaParseError:
                continue
            if parsed is None or parsed[0] != TAGS or parsed[1] > DEFAULT_MAX_METADATA_SIZE:
                continue
            _, size, header = parsed
            payload = read_at(position + header, size)
            tags: list[tuple[str, str]] = []
            try:
                if len(payload) == size:
                    read_tags(payload, 0, size, position + header, out=tags)
            except MediaParseError:
                continue
            producer = first_producer_timestamp(tags)
            if producer is not None:
                return _nanoseconds(producer)
        return None

    def _frame(
        self, data: Buffer, start: int, end: int, offset: int, keyframe: Optional[bool] = None
    ) -> Frame:
        """The Frame of a (Simple)Block payload ``data[start:end]``; ``offset`` for errors."""
        if self._cluster_time is None or self._epoch_offset_ns is None:
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
        time_ns = (self._cluster_time + relative) * self._scale
        us, utc_us = time_ns // 1000, (time_ns + self._epoch_offset_ns) // 1000
        if not (
            TIMEDELTA_US[0] <= us <= TIMEDELTA_US[1] and DATETIME_US[0] <= utc_us <= DATETIME_US[1]
        ):
            raise MediaParseError("block time out of range", offset)
        return Frame(
            track,
            time_ns,
            bool(flags & 0x80) if keyframe is None else keyframe,
            bytes(data[body:end]),
            bool(flags & 0x06),
            self._epoch_offset_ns,
        )
