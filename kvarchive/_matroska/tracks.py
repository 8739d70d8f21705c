"""Reading a Matroska Tracks element: each track's number, kind, name, codec, picture size
and sound format.

A decoder needs what Tracks says of a track: its CodecID (``V_MPEG4/ISO/AVC``),
its CodecPrivate (the avcC or hvcC record that holds the SPS and PPS), and for
video its pixel size; an audio reader its sampling rate, channels and bit
depth. Pure and hostile-input safe: malformed bytes raise MediaParseError with
the offset of the element at fault.
"""

from __future__ import annotations

import struct
from typing import Optional

import attrs

from kvarchive._errors import MediaParseError
from kvarchive._matroska.elements import Buffer, children, read_uint
from kvarchive._matroska.ids import (
    AUDIO,
    CHANNELS,
    CODEC_ID,
    CODEC_PRIVATE,
    PIXEL_HEIGHT,
    PIXEL_WIDTH,
    SAMPLING_FREQUENCY,
    TRACK_ENTRY,
    TRACK_NAME,
    TRACK_NUMBER,
    TRACK_TYPE,
    VIDEO,
)

__all__ = ["TrackEntry", "Tracks", "read_tracks"]

_CONTENT_ENCODINGS = 0x6D80  # not in _ebml: only this reader needs them
_BIT_DEPTH = 0x6264

# Matroska TrackType values (RFC 9559, section 5.1.4.1.3).
_KINDS = {
    1: "video",
    2: "audio",
    3: "complex",
    0x10: "logo",
    0x11: "subtitle",
    0x12: "buttons",
    0x20: "control",
    0x21: "metadata",
}


def _private_repr(data: Optional[bytes]) -> str:
    return "None" if data is None else f"<{len(data)} bytes>"


@attrs.frozen
class TrackEntry:
    """One TrackEntry of a Tracks element.

    ``kind`` is ``"video"``, ``"audio"`` (or another TrackType's name, or
    ``"unknown"``). ``width`` and ``height`` are the Video element's
    PixelWidth and PixelHeight (None for other kinds). ``content_encoded``
    says the track's frames are compressed or encrypted (ContentEncodings),
    so their bytes are not the codec's own. ``name`` is the track's Name.
    ``sample_rate``, ``channels`` and ``bit_depth`` are the Audio element's
    SamplingFrequency, Channels and BitDepth, None where not written (for
    other kinds, always).
    """

    number: int
    kind: str
    codec_id: str
    codec_private: Optional[bytes] = attrs.field(default=None, repr=_private_repr)
    width: Optional[int] = None
    height: Optional[int] = None
    content_encoded: bool = False
    name: Optional[str] = None
    sample_rate: Optional[float] = None
    channels: Optional[int] = None
    bit_depth: Optional[int] = None


Tracks = tuple[TrackEntry, ...]
"""A document's track list, in file order."""


def read_tracks(payload: Buffer, base: int = 0) -> Tracks:
    """The track entries of a Tracks element's payload, in file order.

    ``base`` is the body offset of ``payload[0]``, for errors. Elements other
    than TrackEntry (Void, CRC-32) are passed over.
    """
    data = bytes(payload)
    entries = []
    element_start = 0
    for element_id, start, end in children(data, 0, len(data), base):
        if element_id == TRACK_ENTRY:
            entries.append(_track_entry(data, start, end, base, element_start))
        element_start = end
    return tuple(entries)


def _track_entry(data: bytes, start: int, end: int, base: int, element_start: int) -> TrackEntry:
    number = 0
    kind = "unknown"
    codec_id = ""
    private: Optional[bytes] = None
    size: tuple[Optional[int], Optional[int]] = (None, None)
    sound: _Sound = (None, None, None)
    name: Optional[str] = None
    encoded = False
    for element_id, payload, payload_end in children(data, start, end, base):
        if element_id == TRACK_NUMBER:
            number = read_uint(data, payload, payload_end, base + payload)
        elif element_id == TRACK_TYPE:
            kind = _KINDS.get(read_uint(data, payload, payload_end, base + payload), "unknown")
        elif element_id == CODEC_ID:
            codec_id = str(data[payload:payload_end], "ascii", "replace").rstrip("\0")
        elif element_id == CODEC_PRIVATE:
            private = data[payload:payload_end]
        elif element_id == TRACK_NAME:
            name = str(data[payload:payload_end], "utf-8", "replace").rstrip("\0")
        elif element_id == VIDEO:
            size = _picture_size(data, payload, payload_end, base)
        elif element_id == AUDIO:
            sound = _sound(data, payload, payload_end, base)
        elif element_id == _CONTENT_ENCODINGS:
            encoded = True
    if not number:
        raise MediaParseError("TrackEntry without a TrackNumber", base + element_start)
    width, height = size if kind == "video" else (None, None)
    rate, channels, depth = sound if kind == "audio" else (None, None, None)
    return TrackEntry(
        number, kind, codec_id, private, width, height, encoded, name, rate, channels, depth
    )


def _picture_size(
    data: bytes, start: int, end: int, base: int
) -> tuple[Optional[int], Optional[int]]:
    width: Optional[int] = None
    height: Optional[int] = None
    for element_id, payload, payload_end in children(data, start, end, base):
        if element_id == PIXEL_WIDTH:
            width = read_uint(data, payload, payload_end, base + payload)
        elif element_id == PIXEL_HEIGHT:
            height = read_uint(data, payload, payload_end, base + payload)
    return width, height


_Sound = tuple[Optional[float], Optional[int], Optional[int]]
"""SamplingFrequency, Channels and BitDepth of an Audio element."""


def _sound(data: bytes, start: int, end: int, base: int) -> _Sound:
    rate: Optional[float] = None
    channels: Optional[int] = None
    depth: Optional[int] = None
    for element_id, payload, payload_end in children(data, start, end, base):
        if element_id == SAMPLING_FREQUENCY:
            rate = _read_float(data, payload, payload_end, base + payload)
        elif element_id == CHANNELS:
            channels = read_uint(data, payload, payload_end, base + payload)
        elif element_id == _BIT_DEPTH:
            depth = read_uint(data, payload, payload_end, base + payload)
    return rate, channels, depth


def _read_float(data: bytes, start: int, end: int, offset: int) -> float:
    """An EBML float element: 0, 4 or 8 bytes, big-endian IEEE 754."""
    width = end - start
    if width == 0:
        return 0.0
    if width not in (4, 8):
        raise MediaParseError(f"float element of {width} bytes (not 0, 4 or 8)", offset)
    value: float = struct.unpack(">f" if width == 4 else ">d", data[start:end])[0]
    return value
