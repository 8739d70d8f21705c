"""EBML variable-length integers: writing IDs, sizes and elements, and reading one vint.

Matroska is EBML: every element is an ID (a vint of 1-4 bytes, marker bit
kept), a size (a vint of 1-8 bytes, marker bit removed; all value bits set
means "unknown size") and a payload. See RFC 8794.

Which decoder is for what: element *headers* of a body are read by
:func:`kvarchive._matroska.elements.parse_header` (and, inline, by the
scanner's fast path), which check them and raise MediaParseError with the
offset. :func:`read_size` here decodes one vint where a header is not in
question: the track number at the start of a block.
"""

from __future__ import annotations

__all__ = [
    "UNKNOWN_SIZE",
    "encode_element",
    "encode_id",
    "encode_size",
    "encode_uint",
    "read_size",
]

UNKNOWN_SIZE = -1
"""What :func:`read_size` and ``parse_header`` return for a size with all value bits set."""


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


def read_size(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Decode the vint at ``pos`` (marker removed): ``(value, length)``; length 0 if cut short.

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
