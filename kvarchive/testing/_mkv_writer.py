"""Matroska documents in KVS layout, written piece by piece: the emulator's fragments.

A fragment is laid out as the service returns it from GetMediaForFragmentList::

    EBML header, Segment (unknown size)
      Info, Tracks (1: V_MPEG4/ISO/AVC, 2: A_AAC optional)
      Tags (AWS_KINESISVIDEO_FRAGMENT_NUMBER / _SERVER_TIMESTAMP / _PRODUCER_TIMESTAMP)
      Cluster (unknown size unless asked): Timecode, SimpleBlocks
      Tags (AWS_KINESISVIDEO_MILLIS_BEHIND_NOW), optional

:func:`document_pieces` writes it for synthetic fragments and for the
bundled real sample alike, as literal bytes and :class:`Noise` (pseudo-random
bytes made only when sent), so that a fragment's size is known without
making it. :class:`Track` describes a track to Matroska and MP4 alike.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterator, Sequence
from typing import Protocol, Union

import attrs

from kvarchive._matroska import ids as ebml
from kvarchive._matroska import vint
from kvarchive._matroska.elements import DEFAULT_TIMECODE_SCALE
from kvarchive.testing._seeded import rng

__all__ = [
    "MediaFrame",
    "Noise",
    "Piece",
    "Track",
    "document_pieces",
    "error_chunk",
    "iter_pieces",
    "pieces_size",
    "tracks_element",
]


@attrs.frozen
class Track:
    """A media track, as Matroska and MP4 describe it.

    ``kind`` is ``"video"`` (H.264, ``codec_private`` an avcC record) or
    ``"audio"`` (AAC, ``codec_private`` an AudioSpecificConfig), unless ``codec_id``
    names another codec; an empty ``codec_private`` is left out.
    """

    number: int
    kind: str
    codec_private: bytes
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0
    codec_id: str = ""


def _tag_time(ms: int) -> str:
    """A tag value as the service writes it: ``"1511852109.126"``."""
    return f"{ms // 1000}.{ms % 1000:03d}"


@functools.lru_cache(maxsize=1)
def _noise_pool() -> bytes:
    """1 MiB of fixed pseudo-random bytes; noise is a seeded window on it (fast)."""
    return rng(0x4B5641).randbytes(1 << 20)


@attrs.frozen
class Noise:
    """``length`` pseudo-random bytes, with ``insert`` written at ``insert_at``."""

    length: int
    seed: int
    insert_at: int = -1
    insert: bytes = b""

    def generate(self) -> bytes:
        pool = _noise_pool()
        start = self.seed % len(pool)
        parts = [pool[start : start + self.length]]
        missing = self.length - len(parts[0])
        while missing > 0:
            parts.append(pool[:missing])
            missing -= len(parts[-1])
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if self.insert_at < 0:
            return data
        end = self.insert_at + len(self.insert)
        return data[: self.insert_at] + self.insert + data[end:]


Piece = Union[bytes, Noise]


def _piece_len(piece: Piece) -> int:
    return len(piece) if isinstance(piece, bytes) else piece.length


class MediaFrame(Protocol):
    """What a fragment's frame offers: where it goes, and its data."""

    @property
    def track(self) -> int: ...
    @property
    def offset_ms(self) -> int: ...
    @property
    def keyframe(self) -> bool: ...
    @property
    def size(self) -> int: ...
    def data(self) -> bytes: ...
    def pieces(self) -> list[Piece]: ...


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Join neighbouring literal pieces so that chunks are not absurdly small."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return merged


def _ebml_header() -> bytes:
    return vint.encode_element(
        ebml.EBML,
        vint.encode_element(ebml.EBML_VERSION, b"\x01")
        + vint.encode_element(ebml.EBML_READ_VERSION, b"\x01")
        + vint.encode_element(ebml.EBML_MAX_ID_LENGTH, b"\x04")
        + vint.encode_element(ebml.EBML_MAX_SIZE_LENGTH, b"\x08")
        + vint.encode_element(ebml.DOC_TYPE, b"matroska")
        + vint.encode_element(ebml.DOC_TYPE_VERSION, b"\x02")
        + vint.encode_element(ebml.DOC_TYPE_READ_VERSION, b"\x02"),
    )


def _info(seed: int) -> bytes:
    uid = rng(seed, 5).randbytes(16)
    return vint.encode_element(
        ebml.INFO,
        vint.encode_element(ebml.SEGMENT_UID, uid)
        + vint.encode_element(ebml.TIMECODE_SCALE, vint.encode_uint(DEFAULT_TIMECODE_SCALE))
        + vint.encode_element(ebml.TITLE, b"kinesis_video")
        + vint.encode_element(ebml.MUXING_APP, b"kvarchive.testing")
        + vint.encode_element(ebml.WRITING_APP, b"kvarchive.testing"),
    )


def tracks_element(tracks: Sequence[Track]) -> bytes:
    """A Tracks element describing ``tracks``."""
    entries = b""
    for track in tracks:
        number = vint.encode_uint(track.number)
        if track.kind == "video":
            kind, name, codec = b"\x01", b"kinesis_video", b"V_MPEG4/ISO/AVC"
            details = vint.encode_element(
                ebml.VIDEO,
                vint.encode_element(ebml.PIXEL_WIDTH, vint.encode_uint(track.width))
                + vint.encode_element(ebml.PIXEL_HEIGHT, vint.encode_uint(track.height)),
            )
        else:
            kind, name, codec = b"\x02", b"kinesis_audio", b"A_AAC"
            details = vint.encode_element(
                ebml.AUDIO,
                vint.encode_element(ebml.SAMPLING_FREQUENCY, struct.pack(">d", track.sample_rate))
                + vint.encode_element(ebml.CHANNELS, vint.encode_uint(track.channels)),
            )
        entries += vint.encode_element(
            ebml.TRACK_ENTRY,
            vint.encode_element(ebml.TRACK_NUMBER, number)
            + vint.encode_element(ebml.TRACK_UID, number)
            + vint.encode_element(ebml.TRACK_TYPE, kind)
            + vint.encode_element(ebml.TRACK_NAME, name)
            + vint.encode_element(ebml.CODEC_ID, track.codec_id.encode() or codec)
            + (
                vint.encode_element(ebml.CODEC_PRIVATE, track.codec_private)
                if track.codec_private
                else b""
            )
            + details,
        )
    return vint.encode_element(ebml.TRACKS, entries)


def _tags(pairs: list[tuple[str, str]]) -> bytes:
    simple = b"".join(
        vint.encode_element(
            ebml.SIMPLE_TAG,
            vint.encode_element(ebml.TAG_NAME, name.encode())
            + vint.encode_element(ebml.TAG_STRING, value.encode()),
        )
        for name, value in pairs
    )
    targets = vint.encode_element(
        ebml.TARGETS, vint.encode_element(ebml.TARGET_TYPE_VALUE, b"\x32")
    )
    return vint.encode_element(ebml.TAGS, vint.encode_element(ebml.TAG, targets + simple))


def document_pieces(
    number: str,
    server_ms: int,
    producer_ms: int,
    tracks: Sequence[Track],
    frames: Sequence[MediaFrame],
    *,
    seed: int,
    cluster_size_known: bool,
    trailing_tags: bool,
) -> list[Piece]:
    """One fragment's Matroska document in KVS layout, as literal and generated pieces."""
    head = _ebml_header() + vint.encode_id(ebml.SEGMENT) + vint.encode_size(vint.UNKNOWN_SIZE)
    head += _info(seed) + tracks_element(tracks)
    head += _tags(
        [
            ("AWS_KINESISVIDEO_FRAGMENT_NUMBER", number),
            ("AWS_KINESISVIDEO_SERVER_TIMESTAMP", _tag_time(server_ms)),
            ("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", _tag_time(producer_ms)),
        ]
    )
    # The cluster's Timecode is the producer time, in absolute milliseconds. As the
    # KVS producer SDK writes them, it is 8 bytes and frame sizes are 8-byte vints.
    timecode = vint.encode_element(ebml.TIMECODE, producer_ms.to_bytes(8, "big"))
    body: list[Piece] = [timecode]
    for frame in frames:
        block_head = vint.encode_size(frame.track) + frame.offset_ms.to_bytes(2, "big", signed=True)
        block_head += b"\x80" if frame.keyframe else b"\x00"
        size = len(block_head) + frame.size
        body.append(vint.encode_id(ebml.SIMPLE_BLOCK) + vint.encode_size(size, 8) + block_head)
        body.extend(frame.pieces())
    body_size = sum(_piece_len(p) for p in body)
    cluster_size = body_size if cluster_size_known else vint.UNKNOWN_SIZE
    head += vint.encode_id(ebml.CLUSTER) + vint.encode_size(cluster_size)
    pieces: list[Piece] = [head, *body]
    if trailing_tags:
        behind = rng(seed, 4).randrange(100, 5000)
        pieces.append(_tags([("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", str(behind))]))
    return _merge(pieces)


def iter_pieces(pieces: Sequence[Piece]) -> Iterator[bytes]:
    """The bytes of ``pieces``, generating noise as it comes."""
    for piece in pieces:
        yield piece if isinstance(piece, bytes) else piece.generate()


def pieces_size(pieces: Sequence[Piece]) -> int:
    """Total length of ``pieces`` without generating them."""
    return sum(_piece_len(p) for p in pieces)


def error_chunk(number: str, code: str, message: str) -> bytes:
    """The Matroska document GetMediaForFragmentList sends for a fragment it cannot serve.

    An EBML header and a Segment holding only Tags: the fragment's number and the
    error's integer code and text, under the names of the GetMediaForFragmentList
    reference (``AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE`` / ``..._EXCEPTION_MESSAGE``).
    """
    tags = _tags(
        [
            ("AWS_KINESISVIDEO_FRAGMENT_NUMBER", number),
            ("AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE", code),
            ("AWS_KINESISVIDEO_EXCEPTION_MESSAGE", message),
        ]
    )
    return (
        _ebml_header() + vint.encode_id(ebml.SEGMENT) + vint.encode_size(vint.UNKNOWN_SIZE) + tags
    )
