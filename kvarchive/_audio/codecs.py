"""What a track's bytes are, and the decoder that turns its blocks into s16le samples.

The Matroska CodecID says it (``A_PCM/INT/LIT`` with the Audio element's
BitDepth, ``A_MS/ACM`` with a WAVEFORMATEX CodecPrivate), unless a
``MimeType`` tag says otherwise: Amazon Connect labels raw 8 kHz s16le PCM
``A_AAC`` and tells the truth in that tag, after the Cluster. AAC and Opus go
to PyAV (:mod:`.compressed`); everything else is decoded here, without extras.
"""

from __future__ import annotations

import struct
from typing import Optional, Protocol

import attrs

from kvarchive._audio import pcm
from kvarchive._errors import MediaParseError
from kvarchive._matroska.tracks import TrackEntry

__all__ = [
    "COMPRESSED",
    "MIME_TYPE",
    "Decoder",
    "SampleFormat",
    "decoder_for",
    "mime_format",
    "sample_format",
]

MIME_TYPE = "MimeType"
COMPRESSED = {"A_AAC": "aac", "A_OPUS": "opus"}  # CodecID to FFmpeg decoder name
_WAVEFORMATEX = struct.Struct("<HHIIHH")  # tag, channels, rate, bytes/s, block align, bits
_WAVE_PCM, _WAVE_FLOAT, _WAVE_ALAW, _WAVE_ULAW = 1, 3, 6, 7


class Decoder(Protocol):
    """Turns one track's blocks into s16le interleaved samples."""

    sample_rate: int
    channels: int

    def decode(self, data: bytes) -> bytes:
        """The samples of one block (MediaParseError if the bytes cannot be what they claim)."""
        ...


@attrs.frozen
class SampleFormat:
    """Uncompressed samples: how to read them, at what rate, in how many channels."""

    kind: str  # "int", "float", "alaw" or "ulaw"
    width: int  # bytes per sample
    big_endian: bool
    sample_rate: int
    channels: int


@attrs.define
class _PlainDecoder:
    """A decoder of uncompressed samples (PCM or G.711): whole samples in, s16le out."""

    track: int
    sample_rate: int
    channels: int
    _frame: int  # bytes per sample of every channel
    _convert: pcm.Convert

    def decode(self, data: bytes) -> bytes:
        if len(data) % self._frame:
            raise MediaParseError(
                f"track {self.track}: a block of {len(data)} bytes is not a whole number of "
                f"{self._frame}-byte samples"
            )
        return self._convert(data)


def decoder_for(entry: TrackEntry, mime: Optional[SampleFormat]) -> Decoder:
    """The decoder of an audio track: ``mime`` (from a MimeType tag) wins over the CodecID."""
    if entry.content_encoded:
        raise MediaParseError(
            f"track {entry.number}: its blocks are compressed or encrypted "
            "(Matroska ContentEncodings), which kvarchive does not undo"
        )
    found = sample_format(entry, mime)
    if found is not None:
        return _plain(entry.number, found)
    name = COMPRESSED.get(entry.codec_id)
    if name is None:
        raise MediaParseError(
            f"track {entry.number}: cannot decode audio codec {entry.codec_id or 'unknown'!r}"
        )
    from kvarchive._audio.compressed import CompressedDecoder

    return CompressedDecoder(entry, name)


def mime_format(value: str) -> Optional[SampleFormat]:
    """The samples a MimeType tag names (``audio/L16;rate=8000;channels=1;``), or None.

    ``audio/L16`` is big-endian by RFC 2586, but Connect, the producer that
    writes this tag, sends little-endian samples, and every consumer reads them so.
    """
    kind, *params = [part.strip() for part in value.split(";")]
    options = dict(p.partition("=")[::2] for p in params if p)
    found = {"audio/l16": ("int", 2), "audio/pcma": ("alaw", 1), "audio/pcmu": ("ulaw", 1)}
    if kind.lower() not in found:
        return None
    codec, width = found[kind.lower()]
    try:
        rate, channels = int(options.get("rate", "8000")), int(options.get("channels", "1"))
    except ValueError:
        return None
    if rate < 1 or channels < 1:
        return None
    return SampleFormat(codec, width, False, rate, channels)


def sample_format(entry: TrackEntry, mime: Optional[SampleFormat]) -> Optional[SampleFormat]:
    """The uncompressed samples a track holds: ``mime`` wins, else its CodecID's (None: compressed
    or not audio kvarchive reads as samples)."""
    return mime or _codec_format(entry)


def _codec_format(entry: TrackEntry) -> Optional[SampleFormat]:
    """The uncompressed format the CodecID (and CodecPrivate) name, or None for the others."""
    rate = round(entry.sample_rate or 8000.0)  # Matroska's defaults
    channels = entry.channels or 1
    depth = entry.bit_depth
    codec = entry.codec_id
    if codec in ("A_PCM/INT/LIT", "A_PCM/INT/BIG", "A_PCM/FLOAT/IEEE"):
        kind = "float" if codec == "A_PCM/FLOAT/IEEE" else "int"
        widths = (32, 64) if kind == "float" else (8, 16, 24, 32)
        if depth is None or depth not in widths:
            raise MediaParseError(
                f"track {entry.number}: {codec} with a BitDepth of {depth} "
                f"(kvarchive reads {', '.join(map(str, widths))})"
            )
        return SampleFormat(kind, depth // 8, codec == "A_PCM/INT/BIG", rate, channels)
    if codec == "A_MS/ACM":
        return _wave_format(entry)
    return None


def _wave_format(entry: TrackEntry) -> SampleFormat:
    """The samples a WAVEFORMATEX CodecPrivate describes (PCM, float, A-law, mu-law)."""
    private = entry.codec_private or b""
    if len(private) < _WAVEFORMATEX.size:
        raise MediaParseError(f"track {entry.number}: A_MS/ACM without a WAVEFORMATEX")
    tag, channels, rate, _, _, bits = _WAVEFORMATEX.unpack_from(private)
    kinds = {_WAVE_PCM: "int", _WAVE_FLOAT: "float", _WAVE_ALAW: "alaw", _WAVE_ULAW: "ulaw"}
    kind = kinds.get(tag)
    valid = {"int": (8, 16, 24, 32), "float": (32, 64), "alaw": (8,), "ulaw": (8,)}
    if kind is None or bits not in valid[kind] or not channels or not rate:
        raise MediaParseError(
            f"track {entry.number}: cannot decode A_MS/ACM format tag {tag} "
            f"({bits} bits, {channels} channels, {rate} Hz)"
        )
    return SampleFormat(kind, bits // 8, False, rate, channels)


def _plain(track: int, found: SampleFormat) -> _PlainDecoder:
    if found.kind == "int":
        convert = pcm.int_to_s16(found.width, found.big_endian)
    elif found.kind == "float":
        convert = pcm.float_to_s16(found.width, found.big_endian)
    else:
        convert = pcm.table_to_s16(pcm.ALAW if found.kind == "alaw" else pcm.ULAW)
    frame = found.width * found.channels
    return _PlainDecoder(track, found.sample_rate, found.channels, frame, convert)
