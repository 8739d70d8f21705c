"""The Matroska scanner: the fragments of a KVS media body, found as it streams.

A GetMediaForFragmentList body is a concatenation of Matroska documents, one
per fragment (EBML header, then a Segment of usually unknown size), and nothing
marks where one ends but the next EBML header. :class:`FragmentScanner` finds
those boundaries in a byte stream fed chunk by chunk: it walks element headers
only, skips frame payloads by counting, buffers nothing but element headers and
the small metadata elements (Info, Tracks, Tags), and so runs in time linear in
the bytes fed and memory bounded by one fragment's metadata.

:mod:`.elements` reads element headers, children and tags; :mod:`.fragment_info`
says what a fragment's tags mean; :mod:`.frames` reads frames and :mod:`.parts`
cuts fragments into parts, both through this scanner, with the same checks.
"""

from __future__ import annotations

import struct
from typing import Callable, Optional

import attrs

from kvarchive._errors import MediaParseError
from kvarchive._matroska.elements import (
    DEFAULT_TIMECODE_SCALE,
    Buffer,
    name_of,
    parse_header,
    read_tags,
    read_timecode_scale,
)
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.ids import (
    ATTACHMENTS,
    CHAPTERS,
    CLUSTER,
    CUES,
    EBML,
    INFO,
    SEEK_HEAD,
    SEGMENT,
    TAGS,
    TRACKS,
)
from kvarchive._matroska.vint import UNKNOWN_SIZE

__all__ = [
    "DEFAULT_MAX_METADATA_SIZE",
    "METADATA",
    "FragmentScanner",
    "Listener",
    "scan_elements",
]

DEFAULT_MAX_METADATA_SIZE = 4 << 20
"""Most bytes of EBML header, Info, Tracks and Tags one fragment may hold."""

_MAX_HEADER = 12  # a 4-byte ID and an 8-byte size
# Big-endian integers read straight from a buffer: twice as fast as int.from_bytes(slice).
_unpack_u32 = struct.Struct(">I").unpack_from
_unpack_u64 = struct.Struct(">Q").unpack_from

# Elements that cannot be children of a Cluster: they end an unknown-size one.
_LEVEL1 = frozenset({SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, TAGS, CHAPTERS, ATTACHMENTS})
_NOT_IN_CLUSTER = _LEVEL1 | {EBML, SEGMENT}
METADATA = frozenset({INFO, TRACKS, TAGS})


class _Fragment:
    """What the scanner has gathered about the fragment in progress."""

    __slots__ = ("clusters", "metadata", "segment", "start", "tag_list", "timecode_scale", "tracks")

    def __init__(self, start: int) -> None:
        self.start = start
        self.segment = False
        self.tag_list: list[tuple[str, str]] = []
        self.tracks: Optional[bytes] = None
        self.timecode_scale = DEFAULT_TIMECODE_SCALE
        self.clusters = 0
        self.metadata = 0

    def done(self, end: int) -> FragmentInfo:
        tags = self.tag_list
        first = dict(reversed(tags)) if tags else {}  # the first value of each name
        return FragmentInfo(
            self.start, end, tags, self.tracks, self.timecode_scale, self.clusters, first
        )


Listener = Callable[[int, int, int, int, int], None]
"""Called with (depth, element ID, start, header length, size) of every element header
read: depth 0 is the top level, 1 a child of the Segment, 2 a child of a Cluster. A
listener turns the scanner's fast path off."""


class FragmentScanner:
    """Finds the fragments of a media body fed to it in chunks, as they arrive.

    ``feed(chunk)`` returns the fragments that chunk completed; ``finish()`` at
    the end of the body returns the last one, or raises MediaParseError if the
    body was cut inside an element. Bytes that cannot be Matroska raise
    MediaParseError with their body offset, then and on every later call.
    A ``listener`` hears of every element header as it is read (and turns the
    fast path off). ``start`` is the body offset of the first byte fed, for
    offsets in records and errors. ``metadata`` says which metadata elements to read.
    """

    def __init__(
        self,
        *,
        max_metadata_size: int = DEFAULT_MAX_METADATA_SIZE,
        listener: Optional[Listener] = None,
        start: int = 0,
        metadata: frozenset[int] = METADATA,
    ) -> None:
        self.max_metadata_size = max_metadata_size
        self._consumed = start  # body offset of the current chunk
        self._pending = bytearray()  # the start of an element header cut by a chunk end
        self._skip = 0  # payload bytes still to pass over
        self._collect: Optional[bytearray] = None  # a metadata element being read
        self._collect_left = 0
        self._collect_base = 0  # body offset of the collected payload
        self._element = (0, 0)  # (ID, start) of the element being skipped or collected
        self._stack: list[tuple[int, int, Optional[int]]] = []  # open (ID, start, end)
        self._known_open = False  # whether an open element has a known size (KVS's seldom do)
        self._fragment: Optional[_Fragment] = None
        self._completed = 0
        self._failed: Optional[MediaParseError] = None
        self._finished = False
        self._listener = listener
        self.metadata = metadata
        """Which of Info, Tracks and Tags to read: a reader that needs only boundaries
        or tags reads less, and its records then lack what was not read. It may
        change between two feeds (a reader that needs tags only at times)."""

    def __repr__(self) -> str:
        return (
            f"<FragmentScanner offset={self.offset} completed={self._completed} "
            f"fragment_start={self.fragment_start}>"
        )

    @property
    def offset(self) -> int:
        """Body offset of the next byte to feed: ``start`` plus the bytes fed so far."""
        return self._consumed

    @property
    def settled(self) -> int:
        """Body offset where an element header cut by the last chunk's end begins (the next
        fragment's, maybe), or :attr:`offset` if none."""
        return self._consumed - len(self._pending)

    @property
    def completed(self) -> int:
        """Fragments returned so far."""
        return self._completed

    @property
    def fragment_start(self) -> Optional[int]:
        """Body offset of the fragment in progress; None before the first and after finish."""
        return None if self._fragment is None else self._fragment.start

    @property
    def current_fragment(self) -> Optional[FragmentInfo]:
        """What is known so far of the fragment in progress (tags read, Clusters begun)."""
        fragment = self._fragment
        if fragment is None:
            return None
        info = fragment.done(self._consumed)
        return attrs.evolve(info, tag_list=list(info.tag_list))  # the scanner adds to its own

    @property
    def clean_end(self) -> bool:
        """True when the body could end here: :meth:`finish` would not raise."""
        return self._failed is None and not self._finished and self._truncation() is None

    def feed(self, data: Buffer) -> list[FragmentInfo]:
        """Read the next bytes of the body; return the fragments they complete."""
        self._check_usable()
        view = data  # bytes index fastest; other buffers are read as flat bytes
        if not isinstance(view, (bytes, bytearray)):
            view = memoryview(view)
            if view.format != "B" or view.ndim != 1:
                view = view.cast("B")
        end = len(view)
        pos = 0
        done: list[FragmentInfo] = []
        try:
            while pos < end:
                if self._skip:
                    step = end - pos if self._skip > end - pos else self._skip
                    self._skip -= step
                    pos += step
                elif self._collect is not None:
                    step = min(self._collect_left, end - pos)
                    self._collect += view[pos : pos + step]
                    self._collect_left -= step
                    pos += step
                    if not self._collect_left:
                        self._collected()
                elif self._pending or self._listener is not None:
                    pos = self._header(view, pos, done)
                else:
                    pos = self._walk(view, pos, end, done)
        except MediaParseError as exc:
            self._failed = exc
            raise
        finally:
            self._consumed += pos
        self._completed += len(done)
        return done

    def finish(self) -> list[FragmentInfo]:
        """Declare the end of the body; return the last fragment (if any).

        Raises MediaParseError ("truncated ...") if the body stops inside an
        element, inside a known-size Segment or Cluster, or before a Segment.
        """
        self._check_usable()
        problem = self._truncation()
        if problem is not None:
            self._failed = problem
            raise problem
        self._finished = True
        self._stack.clear()
        self._known_open = False
        fragment, self._fragment = self._fragment, None
        if fragment is None:
            return []
        self._completed += 1
        return [fragment.done(self._consumed)]

    def _check_usable(self) -> None:
        if self._failed is not None:
            raise self._failed
        if self._finished:
            raise ValueError("the FragmentScanner has finished; start a new one")

    def _truncation(self) -> Optional[MediaParseError]:
        at = self._consumed
        if self._pending:
            return MediaParseError("truncated element header", at - len(self._pending))
        if self._skip or self._collect is not None:
            element_id, start = self._element
            return MediaParseError(f"truncated {name_of(element_id)}", start)
        for element_id, start, end in self._stack:
            if end is not None and end != at:
                return MediaParseError(f"truncated {name_of(element_id)}", start)
        if self._fragment is not None and not self._fragment.segment:
            return MediaParseError("truncated fragment: no Segment", self._fragment.start)
        return None

    def _header(self, view: Buffer, pos: int, done: list[FragmentInfo]) -> int:
        """Read one element header at ``pos`` (maybe begun in an earlier chunk)."""
        pending = self._pending
        start = self._consumed + pos - len(pending)
        if pending:
            head = bytes(pending) + bytes(view[pos : pos + _MAX_HEADER - len(pending)])
            parsed = parse_header(head, 0, start)
            if parsed is None:
                taken = len(head) - len(pending)
                pending += view[pos : pos + taken]
                return pos + taken
            pos += parsed[2] - len(pending)
            pending.clear()
        else:
            if self._known_open:
                self._close_at(start)
            parsed = parse_header(view, pos, start)
            if parsed is None:
                pending += view[pos:]
                return len(view)
            pos += parsed[2]
        self._on_element(*parsed, start, done)
        return pos

    # One loop with its decoding inline, on purpose: a call costs more than an element.
    def _walk(self, view: Buffer, pos: int, end: int, done: list[FragmentInfo]) -> int:  # noqa: PLR0915
        """Pass over the common elements of a body in tight loops.

        Frames, and Info, Tracks and Tags that are not being read, are nearly
        every element of a body, so this loop, not :meth:`_header`, sets the
        scanner's speed. It also opens and closes unknown-size Clusters, reads
        Info, Tracks and Tags held whole in the chunk, and starts each fragment
        after the first. Anything else (the first fragment, an element cut by
        the chunk end, an unusual or invalid header, a header cut by the chunk
        end, the end of a known-size parent) it leaves to the general path,
        which reads at least that one element.
        """
        base = self._consumed
        begin = pos
        stack = self._stack
        limit = None
        if self._known_open:
            limit = next((e for _, _, e in reversed(stack) if e is not None), None)
        stop = end - _MAX_HEADER
        while limit is None or base + pos < limit:
            if stack and stack[-1][0] == CLUSTER:
                pos = self._frames(view, pos, end, limit)
                if self._skip:
                    return end
            # Level-1 elements, and the EBML header and Segment, have four-byte IDs.
            if pos > stop or (view[pos] & 0xF0) != 0x10:
                break
            element_id = _unpack_u32(view, pos)[0]
            size_length = 9 - view[pos + 4].bit_length()
            if size_length > 8:
                break
            payload = pos + 4 + size_length
            all_ones = (1 << (7 * size_length)) - 1
            if size_length == 8:
                size = _unpack_u64(view, pos + 4)[0] & all_ones
            else:
                size = int.from_bytes(view[pos + 4 : payload], "big") & all_ones
            if stack and stack[-1][0] == CLUSTER:
                if element_id not in _NOT_IN_CLUSTER or stack[-1][2] is not None:
                    break
                stack.pop()  # an unknown-size Cluster ends at the next level-1 element
            if element_id not in _LEVEL1 or not stack:
                # The next fragment's EBML header, or its Segment: left to the general path
                # if a known-size element is open or the header's payload is cut.
                after = payload if size == all_ones else payload + size
                if limit is not None or after > end:
                    break
                if not self._begin_fragment(element_id, size == all_ones, size, base + pos, done):
                    break
                pos = after
                continue
            if element_id in self.metadata:  # read at once if it is all in this chunk
                after = payload + size
                if size == all_ones or after > end or (limit is not None and base + after > limit):
                    break
                self._count_metadata(size, base + pos)
                self._read_metadata(element_id, bytes(view[payload:after]), base + payload)
                pos = after
                continue
            if element_id == CLUSTER:
                if size != all_ones or (limit is not None and base + payload > limit):
                    break
                assert self._fragment is not None
                self._fragment.clusters += 1
                stack.append((CLUSTER, base + pos, None))
                pos = payload
                continue
            after = payload + size
            if size == all_ones or (limit is not None and base + after > limit):
                break
            if after > end:
                self._skip = after - end
                self._element = (element_id, base + pos)
                return end
            pos = after
        # Whatever stopped the loop at its first element is the general path's to read.
        return self._header(view, pos, done) if pos == begin else pos

    def _begin_fragment(
        self, element_id: int, unknown: bool, size: int, start: int, done: list[FragmentInfo]
    ) -> bool:
        """Read an EBML header that starts the next fragment, or the unknown-size Segment after it.

        :meth:`_top_level`'s work on a valid KVS body, for :meth:`_walk` when no
        known-size element is open, so every element on the stack has an unknown
        size. Returns False to leave the element to the general path.
        """
        fragment = self._fragment
        stack = self._stack
        if fragment is None:
            return False
        if element_id == EBML and not unknown and fragment.segment:
            stack.clear()  # the EBML header ends the Segment (and Cluster) of unknown size
            done.append(fragment.done(start))
            self._fragment = _Fragment(start)
            self._count_metadata(size, start)
            return True
        if element_id == SEGMENT and unknown and not fragment.segment:  # so the stack is empty
            fragment.segment = True
            stack.append((SEGMENT, start, None))
            return True
        return False

    def _frames(self, view: Buffer, pos: int, end: int, limit: Optional[int]) -> int:
        """Pass over the children of a Cluster that have one-byte IDs: frames, Timecode.

        Stops at any other element, at an unknown or invalid size, at ``limit``
        (the end of a known-size parent, as a body offset) and near the chunk
        end; sets ``_skip`` and returns ``end`` for a payload that goes on in the
        next chunk. Sizes 8 bytes wide (the KVS producer SDK's) are tried first.
        """
        base = self._consumed
        stop = end - 9  # room for an ID byte and a size of up to eight bytes
        if limit is not None:
            stop = min(stop, limit - base - 1)
        while pos <= stop:
            element_id = view[pos]
            if element_id < 0x81 or element_id == 0xFF:  # not one byte, or reserved
                break
            marker = view[pos + 1]
            if marker == 0x01:
                size = _unpack_u64(view, pos + 1)[0] & 0xFFFFFFFFFFFFFF
                if size == 0xFFFFFFFFFFFFFF:
                    break
                after = pos + 9 + size
            elif marker & 0x80:
                size = marker & 0x7F
                if size == 0x7F:
                    break
                after = pos + 2 + size
            elif marker & 0x40:
                size = (marker & 0x3F) << 8 | view[pos + 2]
                if size == 0x3FFF:
                    break
                after = pos + 3 + size
            elif marker & 0x20:
                size = (marker & 0x1F) << 16 | view[pos + 2] << 8 | view[pos + 3]
                if size == 0x1FFFFF:
                    break
                after = pos + 4 + size
            elif marker:
                width = 9 - marker.bit_length()  # 4 to 7 bytes
                all_ones = (1 << (7 * width)) - 1
                size = int.from_bytes(view[pos + 1 : pos + 1 + width], "big") & all_ones
                if size == all_ones:
                    break
                after = pos + 1 + width + size
            else:
                break
            if limit is not None and base + after > limit:
                break  # it overruns its parent: the general path says so
            if after > end:
                self._skip = after - end
                self._element = (element_id, base + pos)
                return end
            pos = after
        return pos

    def _close_at(self, pos: int) -> None:
        """Close the known-size elements that end at ``pos``, with any unknown-size ones inside."""
        for index, (_, _, end) in enumerate(self._stack):
            if end == pos:
                del self._stack[index:]
                self._stack_changed()
                return

    def _stack_changed(self) -> None:
        self._known_open = any(end is not None for _, _, end in self._stack)

    def _on_element(
        self, element_id: int, size: int, header: int, start: int, done: list[FragmentInfo]
    ) -> None:
        end = None if size == UNKNOWN_SIZE else start + header + size
        stack = self._stack
        if self._known_open:
            for _, _, limit in reversed(stack):
                if limit is not None:
                    if start + header > limit or (end is not None and end > limit):
                        raise MediaParseError(f"{name_of(element_id)} overruns its parent", start)
                    break
        # An unknown-size element ends at the first element that cannot be its child.
        while stack:
            parent, _, parent_end = stack[-1]
            if parent == SEGMENT and element_id != EBML:
                break
            if parent == CLUSTER and element_id not in _NOT_IN_CLUSTER:
                break
            if parent_end is not None:
                raise MediaParseError(
                    f"{name_of(element_id)} inside a {name_of(parent)} of known size", start
                )
            stack.pop()  # only unknown-size elements are popped here: _known_open stays
        depth = len(stack)
        if depth == 0:
            self._top_level(element_id, size, start, end, done)
        elif element_id == SEGMENT:
            raise MediaParseError("Segment inside a Segment", start)
        elif end is None and element_id != CLUSTER:
            raise MediaParseError(f"{name_of(element_id)} of unknown size", start)
        if self._listener is not None:
            self._listener(depth, element_id, start, header, size)
        if depth == 0:
            return
        if element_id == CLUSTER:
            assert self._fragment is not None
            self._fragment.clusters += 1
            stack.append((CLUSTER, start, end))
            self._known_open = self._known_open or end is not None
        elif depth == 1 and element_id in self.metadata:
            self._start_metadata(element_id, size, start, header)
        else:
            self._skip = size
            self._element = (element_id, start)

    def _top_level(
        self,
        element_id: int,
        size: int,
        start: int,
        end: Optional[int],
        done: list[FragmentInfo],
    ) -> None:
        fragment = self._fragment
        if element_id == EBML:
            if fragment is not None:
                if not fragment.segment:
                    raise MediaParseError("expected a Segment, found an EBML header", start)
                done.append(fragment.done(start))
            if end is None:
                raise MediaParseError("EBML header of unknown size", start)
            self._fragment = _Fragment(start)
            self._count_metadata(size, start)
            self._skip = size
            self._element = (EBML, start)
        elif fragment is None:
            raise MediaParseError(f"expected an EBML header, found {name_of(element_id)}", start)
        elif element_id == SEGMENT and not fragment.segment:
            fragment.segment = True
            self._stack.append((SEGMENT, start, end))
            self._known_open = self._known_open or end is not None
        elif not fragment.segment:
            raise MediaParseError(f"expected a Segment, found {name_of(element_id)}", start)
        else:
            raise MediaParseError(f"{name_of(element_id)} after the Segment", start)

    def _count_metadata(self, size: int, start: int) -> None:
        assert self._fragment is not None
        self._fragment.metadata += size
        if self._fragment.metadata > self.max_metadata_size:
            raise MediaParseError(
                f"fragment metadata exceeds {self.max_metadata_size} bytes", start
            )

    def _start_metadata(self, element_id: int, size: int, start: int, header: int) -> None:
        self._count_metadata(size, start)
        self._element = (element_id, start)
        self._collect_base = start + header
        self._collect = bytearray()
        self._collect_left = size
        if not size:
            self._collected()

    def _collected(self) -> None:
        """Read a metadata element once all its bytes are in."""
        data = bytes(self._collect or b"")
        self._collect = None
        self._read_metadata(self._element[0], data, self._collect_base)

    def _read_metadata(self, element_id: int, data: bytes, base: int) -> None:
        """Read the payload of an Info, Tracks or Tags element; ``base`` is its body offset."""
        fragment = self._fragment
        assert fragment is not None
        if element_id == TAGS:
            read_tags(data, 0, len(data), base, out=fragment.tag_list)
        elif element_id == TRACKS:
            fragment.tracks = data
        else:
            fragment.timecode_scale = read_timecode_scale(data, 0, len(data), base)


def scan_elements(data: bytes) -> tuple[list[tuple[int, int, int, int, int]], list[FragmentInfo]]:
    """Every element header the scanner saw in ``data``, and the fragments it found."""
    events: list[tuple[int, int, int, int, int]] = []

    def listen(depth: int, element_id: int, start: int, header: int, size: int) -> None:
        events.append((depth, element_id, start, header, size))

    scanner = FragmentScanner(listener=listen)
    fragments = scanner.feed(data)
    fragments += scanner.finish()
    return events, fragments
