"""Synthetic Kinesis Video fragments: recipes of deterministic frames, written in KVS layout.

The documents are written by :mod:`._mkv_writer` (shared with the bundled
real sample). Frame payloads are pseudo-random. Their sizes follow from the parameters alone,
so :attr:`SyntheticFragment.size` is known without generating a byte, and the
bytes are produced piece by piece by :meth:`SyntheticFragment.iter_chunks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import attrs

from kvarchive._times import to_epoch_ms
from kvarchive.testing._mkv_writer import (
    Noise,
    Piece,
    Track,
    document_pieces,
    iter_pieces,
    pieces_size,
)
from kvarchive.testing._seeded import mixed_seed, rng

__all__ = [
    "CODECS",
    "EBML_MAGIC",
    "MAGIC_MODES",
    "VIDEO_HEIGHT",
    "VIDEO_WIDTH",
    "DocumentSource",
    "Frame",
    "StoredFrame",
    "SyntheticFragment",
    "synthetic_fragment",
    "synthetic_media_type",
    "synthetic_tracks",
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
# An hvcC record (ISO 14496-15) of Main profile without parameter sets: enough to name H.265.
HEVC_CODEC_PRIVATE = bytes.fromhex("01016000000090000000000000f000fcfdf8f800000f00")
VIDEO_WIDTH, VIDEO_HEIGHT = 640, 480
_TRACK1 = {
    "h264": ("video", "V_MPEG4/ISO/AVC", AVC_CODEC_PRIVATE),
    "hevc": ("video", "V_MPEGH/ISO/HEVC", HEVC_CODEC_PRIVATE),
    "vp8": ("video", "V_VP8", b""),
    "aac": ("audio", "A_AAC", AAC_CODEC_PRIVATE),
}
CODECS = tuple(_TRACK1)
"""The codecs of a synthetic stream's track 1 (``"aac"``: audio only)."""
_MEDIA_TYPES = {"h264": "video/h264", "hevc": "video/h265", "vp8": "video/vp8", "aac": "audio/aac"}
_AUDIO_FRAME_SIZE = 96
_MIN_VIDEO_FRAME = 16


@attrs.frozen
class Frame:
    """One SimpleBlock's frame: track, time from the cluster start, and its bytes."""

    track: int
    offset_ms: int
    keyframe: bool
    prefix: bytes
    noise: Noise

    @property
    def size(self) -> int:
        """Length of the frame data (what an MP4 sample holds)."""
        return len(self.prefix) + self.noise.length

    def data(self) -> bytes:
        """The frame data."""
        return self.prefix + self.noise.generate()

    def pieces(self) -> list[Piece]:
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

    def pieces(self) -> list[Piece]:
        """The frame data as one literal piece."""
        return [self.payload]


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

    def _pieces(self) -> list[Piece]:
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
    codec: str = "h264"
    codec_private: bool = True

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
            noise = Noise(noise_len, mixed_seed(self.seed, 2, index), insert_at, trap)
            offset = index * self.duration_ms // self.frame_count
            frames.append(Frame(1, offset, keyframe, prefix, noise))
            if self.audio:
                audio = Noise(_AUDIO_FRAME_SIZE, mixed_seed(self.seed, 3, index))
                frames.append(Frame(2, offset, True, b"", audio))
        return frames

    def _pieces(self) -> list[Piece]:
        return document_pieces(
            self.number,
            self.server_ms,
            self.producer_ms,
            synthetic_tracks(self.audio, self.codec, self.codec_private),
            self.frames(),
            seed=self.seed,
            cluster_size_known=self.cluster_size_known,
            trailing_tags=self.trailing_tags,
        )


def synthetic_tracks(audio: bool, codec: str = "h264", codec_private: bool = True) -> list[Track]:
    """The tracks of synthetic fragments: 640x480 video of ``codec`` (or AAC alone, ``"aac"``),
    with its codec private data unless not ``codec_private``, and AAC on track 2 when ``audio``."""
    if codec not in _TRACK1:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    kind, codec_id, private = _TRACK1[codec]
    private = private if codec_private else b""
    if kind == "audio":
        first = Track(1, kind, private, sample_rate=48000, channels=1, codec_id=codec_id)
    else:
        first = Track(1, kind, private, VIDEO_WIDTH, VIDEO_HEIGHT, codec_id=codec_id)
    tracks = [first]
    if audio:
        tracks.append(Track(2, "audio", AAC_CODEC_PRIVATE, sample_rate=48000, channels=1))
    return tracks


def synthetic_media_type(codec: str, audio: bool) -> str:
    """What DescribeStream says a synthetic stream of ``codec`` (and AAC when ``audio``) holds."""
    if codec not in _MEDIA_TYPES:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    return _MEDIA_TYPES[codec] + (",audio/aac" if audio else "")


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
        server_ms=_as_epoch_ms(server_timestamp),
        producer_ms=_as_epoch_ms(producer_timestamp),
        duration_ms=duration_ms,
        frame_count=frame_count,
        payload_size=payload_size,
        seed=seed,
        audio=audio,
        cluster_size_known=cluster_size_known,
        trailing_tags=trailing_tags,
        magic=magic,
    ).data()


def _as_epoch_ms(value: datetime | int) -> int:
    """Epoch milliseconds, given or of a datetime (naive means UTC)."""
    return value if isinstance(value, int) else to_epoch_ms(value)
