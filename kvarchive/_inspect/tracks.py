"""What the tracks of a fragment really hold: its TrackEntries read with its MimeType tag.

Amazon Connect labels raw PCM ``A_AAC`` and says what it is in a ``MimeType``
tag (``kvarchive._audio.codecs``): the tag wins over the CodecID here too.
"""

from __future__ import annotations

from typing import Optional

from kvarchive._audio.codecs import MIME_TYPE, SampleFormat, mime_format, sample_format
from kvarchive._errors import MediaParseError
from kvarchive._inspect.report import TrackReport
from kvarchive._inspect.sps import avc_frame_rate
from kvarchive._matroska.frame import TagGroup
from kvarchive._matroska.frames import iter_media_items
from kvarchive._matroska.tracks import TrackEntry

__all__ = ["CODEC_NAMES", "fragment_tracks", "track_report"]

CODEC_NAMES = {
    "V_MPEG4/ISO/AVC": "H.264",
    "V_MPEGH/ISO/HEVC": "H.265",
    "V_VP8": "VP8",
    "V_VP9": "VP9",
    "V_AV1": "AV1",
    "V_MJPEG": "MJPEG",
    "A_AAC": "AAC",
    "A_OPUS": "Opus",
}
"""The Matroska CodecIDs of the formats the requirements name."""

_SAMPLE_NAMES = {"int": "PCM", "float": "PCM", "alaw": "G.711 A-law", "ulaw": "G.711 mu-law"}


def fragment_tracks(data: bytes) -> tuple[TrackReport, ...]:
    """The tracks of one fragment's Matroska document (MediaParseError if it is not one)."""
    entries: tuple[TrackEntry, ...] = ()
    mime: Optional[SampleFormat] = None
    for item in iter_media_items(data):
        if isinstance(item, tuple):
            entries = entries or item
        elif isinstance(item, TagGroup):
            value = next((v for n, v in item.pairs if n == MIME_TYPE), None)
            mime = mime or (mime_format(value) if value else None)
    return tuple(track_report(entry, mime) for entry in entries)


def track_report(entry: TrackEntry, mime: Optional[SampleFormat]) -> TrackReport:
    """One track's facts; ``mime`` (a MimeType tag's samples) applies to audio tracks only."""
    samples: Optional[SampleFormat] = None
    if entry.kind == "audio":
        try:
            samples = sample_format(entry, mime)
        except MediaParseError:
            samples = None  # a PCM layout kvarchive does not read: its CodecID names it
    if samples is not None:
        name = _SAMPLE_NAMES[samples.kind]
        rate: Optional[int] = samples.sample_rate
        channels: Optional[int] = samples.channels
    else:
        name = CODEC_NAMES.get(entry.codec_id, entry.codec_id or "unknown")
        rate = round(entry.sample_rate) if entry.sample_rate else None
        channels = entry.channels
    return TrackReport(
        number=entry.number,
        kind=entry.kind,
        codec_id=entry.codec_id,
        format=name,
        name=entry.name,
        codec_private=bool(entry.codec_private),
        width=entry.width,
        height=entry.height,
        frame_rate=avc_frame_rate(entry.codec_private) if name == "H.264" else None,
        sample_rate=rate,
        channels=channels,
    )
