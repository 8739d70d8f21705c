"""Reading EBML elements: headers, the children of an element held in memory, and tags.

:func:`parse_header` is where an element header is decoded and checked (a
MediaParseError with the offset for bytes that cannot be one); the scanner
(:mod:`.scanner`) calls it wherever its inline fast path stops. :func:`children`
walks the elements of a payload held in memory, for every reader of Info,
Tracks, SeekHead, BlockGroup and Cluster payloads; the scanner reads Info and
Tags with :func:`read_timecode_scale` and :func:`read_tags`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional, Union

from kvarchive._errors import MediaParseError
from kvarchive._matroska.ids import (
    ATTACHMENTS,
    BLOCK_GROUP,
    CHAPTERS,
    CLUSTER,
    CUES,
    EBML,
    INFO,
    SEEK,
    SEEK_HEAD,
    SEEK_ID,
    SEEK_POSITION,
    SEGMENT,
    SIMPLE_BLOCK,
    SIMPLE_TAG,
    TAG,
    TAG_NAME,
    TAG_STRING,
    TAGS,
    TIMECODE,
    TIMECODE_SCALE,
    TRACKS,
)
from kvarchive._matroska.vint import UNKNOWN_SIZE

__all__ = [
    "DEFAULT_TIMECODE_SCALE",
    "Buffer",
    "children",
    "name_of",
    "parse_header",
    "read_seek_positions",
    "read_tags",
    "read_timecode_scale",
    "read_uint",
]

Buffer = Union[bytes, bytearray, memoryview]

DEFAULT_TIMECODE_SCALE = 1_000_000
"""Nanoseconds per Matroska timecode unit when Info does not say (the spec default)."""

_MAX_TAG_NESTING = 32

_NAMES = {
    EBML: "EBML header",
    SEGMENT: "Segment",
    SEEK_HEAD: "SeekHead",
    INFO: "Info",
    TRACKS: "Tracks",
    CLUSTER: "Cluster",
    CUES: "Cues",
    TAGS: "Tags",
    CHAPTERS: "Chapters",
    ATTACHMENTS: "Attachments",
    SIMPLE_BLOCK: "SimpleBlock",
    BLOCK_GROUP: "BlockGroup",
    TIMECODE: "Timecode",
}


def name_of(element_id: int) -> str:
    """The element's name for messages, e.g. ``"Cluster"``."""
    return _NAMES.get(element_id, f"element 0x{element_id:X}")


def parse_header(data: Buffer, pos: int, start: int) -> Optional[tuple[int, int, int]]:
    """``(ID, size, header length)`` of the element at ``pos``; None if the bytes stop first.

    ``start`` is its body offset, for errors. The vints are decoded inline, not
    with ``vint.read_size``: this runs for elements of every body read.
    """
    available = len(data)
    first = data[pos]
    if first & 0x80:
        id_length = 1
    elif first & 0x40:
        id_length = 2
    elif first & 0x20:
        id_length = 3
    elif first & 0x10:
        id_length = 4
    else:
        raise MediaParseError(f"invalid element ID byte 0x{first:02X}", start)
    size_at = pos + id_length
    if size_at >= available:
        return None
    element_id = first if id_length == 1 else int.from_bytes(data[pos:size_at], "big")
    mask = (1 << (7 * id_length)) - 1
    if element_id & mask in (0, mask):  # all-zero and all-one IDs are reserved
        raise MediaParseError(f"invalid element ID 0x{element_id:X}", start)
    marker = data[size_at]
    if not marker:
        raise MediaParseError(f"invalid size of {name_of(element_id)}", start)
    size_length = 9 - marker.bit_length()
    if size_at + size_length > available:
        return None
    all_ones = (1 << (7 * size_length)) - 1
    if size_length == 1:
        size = marker & 0x7F
    else:
        size = int.from_bytes(data[size_at : size_at + size_length], "big") & all_ones
    return element_id, UNKNOWN_SIZE if size == all_ones else size, id_length + size_length


def children(data: Buffer, start: int, end: int, base: int) -> Iterator[tuple[int, int, int]]:
    """``(ID, payload start, payload end)`` of each element in ``data[start:end]``.

    Every one must have a known size and fit; ``base`` is the body offset of ``data[0]``.
    """
    pos = start
    while pos < end:
        element_id, payload, pos = _child(data, pos, end, base)
        yield element_id, payload, pos


def _child(data: Buffer, pos: int, end: int, base: int) -> tuple[int, int, int]:
    """``(ID, payload start, payload end)`` of the element at ``pos``, which must end by ``end``."""
    parsed = parse_header(data, pos, base + pos)
    if parsed is None or pos + parsed[2] > end:
        raise MediaParseError("element header overruns its parent", base + pos)
    element_id, size, header = parsed
    if size == UNKNOWN_SIZE:
        raise MediaParseError(f"{name_of(element_id)} of unknown size", base + pos)
    payload = pos + header
    if payload + size > end:
        raise MediaParseError(f"{name_of(element_id)} overruns its parent", base + pos)
    return element_id, payload, payload + size


def _text(data: bytes) -> str:
    # EBML strings may be padded with zero bytes.
    return str(data, "utf-8", "replace").rstrip("\0")


def read_uint(data: Buffer, start: int, end: int, offset: int) -> int:
    if end - start > 8:
        raise MediaParseError("unsigned integer longer than 8 bytes", offset)
    return int.from_bytes(data[start:end], "big")


def read_seek_positions(data: Buffer, start: int, end: int, base: int, wanted: int) -> list[int]:
    """Where a SeekHead payload says elements ``wanted`` are (from the Segment's data start)."""
    wanted_id = wanted.to_bytes(4, "big").lstrip(b"\0")
    positions = []
    for element_id, payload, payload_end in children(data, start, end, base):
        if element_id != SEEK:
            continue
        found: Optional[bytes] = None
        position: Optional[int] = None
        for child_id, child, child_end in children(data, payload, payload_end, base):
            if child_id == SEEK_ID:
                found = bytes(data[child:child_end])
            elif child_id == SEEK_POSITION:
                position = read_uint(data, child, child_end, base + child)
        if found == wanted_id and position is not None:
            positions.append(position)
    return positions


def read_timecode_scale(data: Buffer, start: int, end: int, base: int) -> int:
    """The TimecodeScale of an Info payload (nanoseconds per timecode unit)."""
    scale = DEFAULT_TIMECODE_SCALE
    for element_id, payload, payload_end in children(data, start, end, base):
        if element_id == TIMECODE_SCALE:
            scale = read_uint(data, payload, payload_end, base + payload)
            if not scale:
                raise MediaParseError("TimecodeScale of zero", base + payload)
    return scale


def read_tags(data: bytes, start: int, end: int, base: int, *, out: list[tuple[str, str]]) -> None:
    """Append every SimpleTag (nested ones too) under Tags or Tag children to ``out``.

    In file order: a SimpleTag comes before those nested in it, although it is
    added once its end is reached (its name and value may follow its children).
    One loop over element headers with a stack of the open Tag and SimpleTag
    elements (rather than a recursion over :func:`children`): a fragment's tags
    are read on every ``iter_fragments`` step.
    """
    ends = [end]  # where each open element ends: the Tags payload, then Tag or SimpleTag
    # [name, value, where in ``out`` it goes] of each open SimpleTag; None for a Tag
    open_tags: list[Optional[list[Any]]] = [None]
    pos = start
    while True:
        while pos == ends[-1]:
            ends.pop()
            simple = open_tags.pop()
            if simple is not None and simple[0] is not None and simple[1] is not None:
                out.insert(simple[2], (simple[0], simple[1]))
            if not ends:
                return
        parent_end = ends[-1]
        fits = pos + 3 <= parent_end
        element_id = data[pos] << 8 | data[pos + 1] if fits else 0
        marker = data[pos + 2] if fits else 0
        # Tag elements have valid two-byte IDs and, most often, one-byte sizes.
        if 0x4000 < element_id < 0x7FFF and 0x80 <= marker < 0xFF:
            payload, pos = pos + 3, pos + 3 + (marker & 0x7F)
            if pos > parent_end:
                raise MediaParseError(
                    f"{name_of(element_id)} overruns its parent", base + payload - 3
                )
        else:
            element_id, payload, pos = _child(data, pos, parent_end, base)
        simple = open_tags[-1]
        if element_id == SIMPLE_TAG or (element_id == TAG and simple is None):
            if len(ends) > _MAX_TAG_NESTING:
                raise MediaParseError("tags nested too deeply", base + payload)
            ends.append(pos)
            open_tags.append(None if element_id == TAG else [None, None, len(out)])
            pos = payload
        elif simple is not None and element_id == TAG_NAME:
            simple[0] = _text(data[payload:pos])
        elif simple is not None and element_id == TAG_STRING:
            simple[1] = _text(data[payload:pos])
