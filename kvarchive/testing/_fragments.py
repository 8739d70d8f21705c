"""Synthetic Kinesis Video fragments: deterministic Matroska documents in KVS layout.

A fragment is laid out as the service returns it from GetMediaForFragmentList
(:func:`document_pieces`, shared with the bundled real sample)::

    EBML header, Segment (unknown size)
      Info, Tracks (1: V_MPEG4/ISO/AVC, 2: A_AAC optional)
      Tags (AWS_KINESISVIDEO_FRAGMENT_NUMBER / _SERVER_TIMESTAMP / _PRODUCER_TIMESTAMP)
      Cluster (unknown size unless asked): Timecode, SimpleBlocks
      Tags (AWS_KINESISVIDEO_MILLIS_BEHIND_NOW), optional

Frame payloads are pseudo-random. Their sizes follow from the parameters alone,
so :attr:`SyntheticFragment.size` is known without generating a byte, and the
bytes are produced piece by piece by :meth:`SyntheticFragment.iter_chunks`.
"""

from __future__ import annotations

import functools
import hashlib
import random
import struct
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Protocol, Union

import attrs

from kvarchive._matroska import ids as ebml
from kvarchive._matroska import vint
from kvarchive.testing._mp4 import Track

__all__ = [
    "EBML_MAGIC",
    "MAGIC_MODES",
    "VIDEO_HEIGHT",
    "VIDEO_WIDTH",
    "Frame",
    "MediaFrame",
    "StoredFrame",
    "SyntheticFragment",
    "document_pieces",
    "iter_pieces",
    "pieces_size",
    "rng",
    "synthetic_fragment",
    "synthetic_tracks",
    "tags_element",
    "tracks_element",
]

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
"""The EBML header ID, which synthetic frame payloads carry to trap naive splitters."""

MAGIC_MODES = ("never", "sometimes", "always")

# An avcC record (ISO 14496-15): 640x480 constrained baseline, SPS and PPS
# from x264. The frames are noise; the header is real so tools can describe it.
_SPS = bytes.fromhex("6742c016d900a03db0110000030001000003001e0f162e48")
_PPS = bytes.fromhex("68cb83cb20")
AVC_CODEC_PRIVATE = (
    bytes([1, _SPS[1], _SPS[2], _SPS[3], 0xFF, 0xE1])
    + len(_SPS).to_bytes(2, "big")
    + _SPS
    + b"\x01"
    + len(_PPS).to_bytes(2, "big")
    + _PPS
)
# AudioSpecificConfig: AAC-LC, 48 kHz, mono.
AAC_CODEC_PRIVATE = b"\x11\x88"
VIDEO_WIDTH, VIDEO_HEIGHT = 640, 480
_AUDIO_FRAME_SIZE = 96
_MIN_VIDEO_FRAME = 16


def _seed(*parts: object) -> int:
    """A well-mixed 64-bit seed from several values (``random.Random`` refuses tuples)."""
    text = ",".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def rng(*parts: object) -> random.Random:
    """A deterministic generator seeded from ``parts`` (test data, not secrets)."""
    return random.Random(_seed(*parts))  # noqa: S311


def _epoch_ms(value: datetime | int) -> int:
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _tag_time(ms: int) -> str:
    """A tag value as the service writes it: ``"1511852109.126"``."""
    return f"{ms // 1000}.{ms % 1000:03d}"


@functools.lru_cache(maxsize=1)
def _noise_pool() -> bytes:
    """1 MiB of fixed pseudo-random bytes; noise is a seeded window on it (fast)."""
    return rng(0x4B5641).randbytes(1 << 20)


@attrs.frozen
class _Noise:
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


_Piece = Union[bytes, _Noise]


def _piece_len(piece: _Piece) -> int:
    return len(piece) if isinstance(piece, bytes) else piece.length


@attrs.frozen
class Frame:
    """One SimpleBlock's frame: track, time from the cluster start, and its bytes."""

    track: int
    offset_ms: int
    keyframe: bool
    prefix: bytes
    noise: _Noise

    @property
    def size(self) -> int:
        """Length of the frame data (what an MP4 sample holds)."""
        return len(self.prefix) + self.noise.length

    def data(self) -> bytes:
        """The frame data."""
        return self.prefix + self.noise.generate()

    def pieces(self) -> list[_Piece]:
        """The frame data as literal and generated pieces."""
        return [self.prefix, self.noise]


@attrs.frozen
class StoredFrame:
    """A frame whose data is held (frames of the bundled real sample)."""

    track: int
    offset_ms: int
    keyframe: bool
    payload: bytes = attrs.field(repr=lambda p: f"<{len(p)} bytes>")

    @property
    def size(self) -> int:
        """Length of the frame data."""
        return len(self.payload)

    def data(self) -> bytes:
        """The frame data."""
        return self.payload

    def pieces(self) -> list[_Piece]:
        """The frame data as one literal piece."""
        return [self.payload]


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
    def pieces(self) -> list[_Piece]: ...


def _frame_sizes(total: int, count: int) -> list[int]:
    """Split ``total`` bytes over ``count`` frames, the keyframe weighing four."""
    weights = [4] + [1] * (count - 1)
    unit = total // sum(weights)
    sizes = [max(_MIN_VIDEO_FRAME, unit * w) for w in weights]
    sizes[0] += max(0, total - sum(sizes))
    return sizes


class DocumentSource:
    """A fragment whose Matroska document is made on demand from its pieces."""

    __slots__ = ()

    def _pieces(self) -> list[_Piece]:
        raise NotImplementedError

    @property
    def size(self) -> int:
        """Length in bytes of the whole document, computed without generating it."""
        return pieces_size(self._pieces())

    def iter_chunks(self) -> Iterator[bytes]:
        """The document's bytes, in pieces of at most one frame each."""
        return iter_pieces(self._pieces())

    def data(self) -> bytes:
        """The whole document."""
        return b"".join(self.iter_chunks())


@attrs.frozen
class SyntheticFragment(DocumentSource):
    """The recipe of one synthetic fragment; cheap to hold, bytes made on demand.

    ``server_ms`` / ``producer_ms`` are epoch milliseconds. ``magic`` says how
    often frame payloads embed :data:`EBML_MAGIC` (followed by the start of a
    plausible EBML header): ``"never"``, ``"sometimes"`` (in about half of the
    fragments, one frame) or ``"always"`` (every video frame).
    """

    number: str
    server_ms: int
    producer_ms: int
    duration_ms: int = 2000
    frame_count: int = 30
    payload_size: int = 64 * 1024
    seed: int = 0
    audio: bool = False
    cluster_size_known: bool = False
    trailing_tags: bool = False
    magic: str = "sometimes"

    def __attrs_post_init__(self) -> None:
        if not self.number.isdigit() or len(self.number) > 128:
            raise ValueError(f"fragment number must be 1-128 digits: {self.number!r}")
        if not 1 <= self.duration_ms <= 32_767:
            raise ValueError("duration_ms must be 1..32767 (SimpleBlock offsets are int16)")
        if self.frame_count < 1:
            raise ValueError("frame_count must be at least 1")
        if self.magic not in MAGIC_MODES:
            raise ValueError(f"magic must be one of {MAGIC_MODES}")

    def frames(self) -> list[Frame]:
        """The frames in cluster order (audio, when present, follows each video frame)."""
        generator = rng(self.seed, 1)
        magic_frame = -1
        if self.magic == "sometimes" and generator.random() < 0.5:
            magic_frame = generator.randrange(self.frame_count)
        frames = []
        sizes = _frame_sizes(self.payload_size, self.frame_count)
        # A fake EBML header start, so a splitter that searches for the magic
        # finds something that looks like the beginning of a document.
        trap = EBML_MAGIC + bytes.fromhex("9f42868101 42f78101")
        for index, size in enumerate(sizes):
            keyframe = index == 0
            nal_header = b"\x65" if keyframe else b"\x41"
            prefix = (size - 4).to_bytes(4, "big") + nal_header
            noise_len = size - len(prefix)
            insert_at = -1
            if (self.magic == "always" or index == magic_frame) and noise_len >= len(trap):
                insert_at = generator.randrange(noise_len - len(trap) + 1)
            noise = _Noise(noise_len, _seed(self.seed, 2, index), insert_at, trap)
            offset = index * self.duration_ms // self.frame_count
            frames.append(Frame(1, offset, keyframe, prefix, noise))
            if self.audio:
                audio = _Noise(_AUDIO_FRAME_SIZE, _seed(self.seed, 3, index))
                frames.append(Frame(2, offset, True, b"", audio))
        return frames

    def _pieces(self) -> list[_Piece]:
        return document_pieces(
            self.number,
            self.server_ms,
            self.producer_ms,
            synthetic_tracks(self.audio),
            self.frames(),
            seed=self.seed,
            cluster_size_known=self.cluster_size_known,
            trailing_tags=self.trailing_tags,
        )


def _merge(pieces: list[_Piece]) -> list[_Piece]:
    """Join neighbouring literal pieces so that chunks are not absurdly small."""
    merged: list[_Piece] = []
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
        + vint.encode_element(ebml.TIMECODE_SCALE, vint.encode_uint(1_000_000))
        + vint.encode_element(ebml.TITLE, b"kinesis_video")
        + vint.encode_element(ebml.MUXING_APP, b"kvarchive.testing")
        + vint.encode_element(ebml.WRITING_APP, b"kvarchive.testing"),
    )


def synthetic_tracks(audio: bool) -> list[Track]:
    """The tracks of synthetic fragments: 640x480 H.264, and AAC when ``audio``."""
    tracks = [Track(1, "video", AVC_CODEC_PRIVATE, VIDEO_WIDTH, VIDEO_HEIGHT)]
    if audio:
        tracks.append(Track(2, "audio", AAC_CODEC_PRIVATE, sample_rate=48000, channels=1))
    return tracks


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
            + vint.encode_element(ebml.CODEC_ID, codec)
            + vint.encode_element(ebml.CODEC_PRIVATE, track.codec_private)
            + details,
        )
    return vint.encode_element(ebml.TRACKS, entries)


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
) -> list[_Piece]:
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
    body: list[_Piece] = [timecode]
    for frame in frames:
        block_head = vint.encode_size(frame.track) + frame.offset_ms.to_bytes(2, "big", signed=True)
        block_head += b"\x80" if frame.keyframe else b"\x00"
        size = len(block_head) + frame.size
        body.append(vint.encode_id(ebml.SIMPLE_BLOCK) + vint.encode_size(size, 8) + block_head)
        body.extend(frame.pieces())
    body_size = sum(_piece_len(p) for p in body)
    cluster_size = body_size if cluster_size_known else vint.UNKNOWN_SIZE
    head += vint.encode_id(ebml.CLUSTER) + vint.encode_size(cluster_size)
    pieces: list[_Piece] = [head, *body]
    if trailing_tags:
        behind = rng(seed, 4).randrange(100, 5000)
        pieces.append(_tags([("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", str(behind))]))
    return _merge(pieces)


def iter_pieces(pieces: Sequence[_Piece]) -> Iterator[bytes]:
    """The bytes of ``pieces``, generating noise as it comes."""
    for piece in pieces:
        yield piece if isinstance(piece, bytes) else piece.generate()


def pieces_size(pieces: Sequence[_Piece]) -> int:
    """Total length of ``pieces`` without generating them."""
    return sum(_piece_len(p) for p in pieces)


def tags_element(pairs: list[tuple[str, str]]) -> bytes:
    """A Tags element holding one Tag with a SimpleTag per ``(name, value)``."""
    return _tags(pairs)


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


def synthetic_fragment(
    number: str,
    server_timestamp: datetime | int,
    producer_timestamp: datetime | int,
    *,
    duration_ms: int = 2000,
    frame_count: int = 30,
    payload_size: int = 64 * 1024,
    seed: int = 0,
    audio: bool = False,
    cluster_size_known: bool = False,
    trailing_tags: bool = False,
    magic: str = "sometimes",
) -> bytes:
    """The bytes of one deterministic synthetic fragment (timestamps: datetime or epoch ms)."""
    return SyntheticFragment(
        number=number,
        server_ms=_epoch_ms(server_timestamp),
        producer_ms=_epoch_ms(producer_timestamp),
        duration_ms=duration_ms,
        frame_count=frame_count,
        payload_size=payload_size,
        seed=seed,
        audio=audio,
        cluster_size_known=cluster_size_known,
        trailing_tags=trailing_tags,
        magic=magic,
    ).data()
