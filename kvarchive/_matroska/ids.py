"""EBML primitives: the Matroska element IDs kvarchive uses, and vint coding.

Matroska is EBML: every element is an ID (a vint of 1-4 bytes, marker bit
kept), a size (a vint of 1-8 bytes, marker bit removed; all value bits set
means "unknown size") and a payload. See RFC 8794 and the Matroska spec.
"""

from __future__ import annotations

__all__ = [
    "UNKNOWN_SIZE",
    "encode_element",
    "encode_id",
    "encode_size",
    "encode_uint",
    "read_id",
    "read_size",
]

# Top level and EBML header.
EBML = 0x1A45DFA3
EBML_VERSION = 0x4286
EBML_READ_VERSION = 0x42F7
EBML_MAX_ID_LENGTH = 0x42F2
EBML_MAX_SIZE_LENGTH = 0x42F3
DOC_TYPE = 0x4282
DOC_TYPE_VERSION = 0x4287
DOC_TYPE_READ_VERSION = 0x4285
SEGMENT = 0x18538067

# Level 1 (children of Segment).
SEEK_HEAD = 0x114D9B74
INFO = 0x1549A966
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
CUES = 0x1C53BB6B
TAGS = 0x1254C367
CHAPTERS = 0x1043A770
ATTACHMENTS = 0x1941A469

# SeekHead.
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC

# Info.
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
MUXING_APP = 0x4D80
WRITING_APP = 0x5741
SEGMENT_UID = 0x73A4
TITLE = 0x7BA9

# Tracks.
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_UID = 0x73C5
TRACK_TYPE = 0x83
CODEC_ID = 0x86
CODEC_PRIVATE = 0x63A2
TRACK_NAME = 0x536E
DEFAULT_DURATION = 0x23E383
VIDEO = 0xE0
PIXEL_WIDTH = 0xB0
PIXEL_HEIGHT = 0xBA
AUDIO = 0xE1
SAMPLING_FREQUENCY = 0xB5
CHANNELS = 0x9F

# Cluster.
TIMECODE = 0xE7
POSITION = 0xA7
PREV_SIZE = 0xAB
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
BLOCK_DURATION = 0x9B
REFERENCE_BLOCK = 0xFB

# Tags.
TAG = 0x7373
TARGETS = 0x63C0
TARGET_TYPE_VALUE = 0x68CA
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_LANGUAGE = 0x447A
TAG_DEFAULT = 0x4484
TAG_STRING = 0x4487
TAG_BINARY = 0x4485

# Global elements allowed anywhere.
VOID = 0xEC
CRC32 = 0xBF

UNKNOWN_SIZE = -1
"""What :func:`read_size` returns for a size field with all value bits set."""


def encode_id(element_id: int) -> bytes:
    """The bytes of an element ID (IDs keep their length marker)."""
    length = max(1, (element_id.bit_length() + 7) // 8)
    return element_id.to_bytes(length, "big")


def encode_size(size: int, width: int = 0) -> bytes:
    """A size vint of ``width`` bytes (the smallest that fits when 0).

    ``UNKNOWN_SIZE`` encodes as all ones, 8 bytes wide unless ``width`` says otherwise.
    """
    if size == UNKNOWN_SIZE:
        width = width or 8
        return bytes([0xFF >> (width - 1)]) + b"\xff" * (width - 1)
    if size < 0:
        raise ValueError(f"negative element size {size}")
    if not width:
        width = 1
        # All-ones is reserved for "unknown", hence the -1.
        while size >= (1 << (7 * width)) - 1:
            width += 1
    if width > 8 or size >= (1 << (7 * width)) - 1:
        raise ValueError(f"size {size} does not fit in {width} bytes")
    return ((1 << (7 * width)) | size).to_bytes(width, "big")


def encode_uint(value: int) -> bytes:
    """The payload of an unsigned-integer element (big-endian, shortest form)."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def encode_element(element_id: int, payload: bytes, size_width: int = 0) -> bytes:
    """One whole element: ID, size and payload."""
    return encode_id(element_id) + encode_size(len(payload), size_width) + payload


def read_id(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Decode the element ID at ``pos``: ``(id, length)``; length 0 if not enough bytes.

    Raises ValueError if the first byte cannot start an ID (no marker in 4 bytes).
    """
    if pos >= len(data):
        return 0, 0
    first = data[pos]
    if first & 0x80:
        length = 1
    elif first & 0x40:
        length = 2
    elif first & 0x20:
        length = 3
    elif first & 0x10:
        length = 4
    else:
        raise ValueError(f"invalid element ID byte 0x{first:02x}")
    if pos + length > len(data):
        return 0, 0
    return int.from_bytes(data[pos : pos + length], "big"), length


def read_size(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Decode the size vint at ``pos``: ``(size, length)``; length 0 if not enough bytes.

    An all-ones value is ``UNKNOWN_SIZE``. Raises ValueError on a zero first byte.
    """
    if pos >= len(data):
        return 0, 0
    first = data[pos]
    if first == 0:
        raise ValueError("invalid size: first byte is zero")
    length = 9 - first.bit_length()
    if pos + length > len(data):
        return 0, 0
    value = int.from_bytes(data[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    if value == (1 << (7 * length)) - 1:
        return UNKNOWN_SIZE, length
    return value, length
