"""A small MP4 (ISO BMFF) writer for GetClip: ftyp, moov, then one mdat.

GetClip returns a traditional, not fragmented, MP4. The moov box describes
every sample from sizes alone, so the header can be written first and the
sample data streamed after it without holding the clip in memory.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import attrs

from kvarchive.testing._mkv_writer import Track

__all__ = [
    "Mp4Sample",
    "box",
    "codecs",
    "full_box",
    "mp4_header",
    "sample_entry",
    "track_box",
]

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@attrs.frozen
class Mp4Sample:
    """One sample as it will sit in mdat: its track, time (ms), key flag and size."""

    track: int
    time_ms: int
    keyframe: bool
    size: int


def codecs(track: Track) -> str:
    """The track's RFC 6381 ``codecs`` value for HLS and DASH: ``avc1.PPCCLL``, ``mp4a.40.N``."""
    if track.kind == "video":
        return "avc1." + track.codec_private[1:4].hex()
    return f"mp4a.40.{track.codec_private[0] >> 3}"


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box of type ``kind`` holding ``payload``."""
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A box that starts with a version byte and 24 bits of flags."""
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _descriptor(tag: int, payload: bytes) -> bytes:
    return bytes([tag, len(payload)]) + payload


def sample_entry(track: Track) -> bytes:
    """The stsd entry of ``track``: avc1 with its avcC, or mp4a with its esds."""
    if track.kind == "video":
        return box(
            b"avc1",
            b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 16,
            struct.pack(">HH", track.width, track.height),
            struct.pack(">IIIH", 0x480000, 0x480000, 0, 1),
            b"\x00" * 32,
            struct.pack(">Hh", 0x18, -1),
            box(b"avcC", track.codec_private),
        )
    decoder_config = _descriptor(
        0x04,
        bytes([0x40, 0x15])
        + b"\x00\x00\x00"
        + struct.pack(">II", 0, 0)
        + _descriptor(0x05, track.codec_private),
    )
    es = _descriptor(0x03, b"\x00\x00\x00" + decoder_config + _descriptor(0x06, b"\x02"))
    return box(
        b"mp4a",
        b"\x00" * 6 + struct.pack(">H", 1) + b"\x00" * 8,
        struct.pack(">HHHH", track.channels, 16, 0, 0),
        struct.pack(">I", track.sample_rate << 16),
        full_box(b"esds", 0, 0, es),
    )


def _trak(
    track: Track, samples: list[Mp4Sample], offsets: list[int], origin: int, end_ms: int
) -> bytes:
    times = [s.time_ms - origin for s in samples]
    deltas = [max(0, b - a) for a, b in zip(times, times[1:])]
    deltas.append(max(1, end_ms - origin - times[-1]) if times else 0)
    duration = sum(deltas)
    runs: list[list[int]] = []
    for delta in deltas:
        if runs and runs[-1][1] == delta:
            runs[-1][0] += 1
        else:
            runs.append([1, delta])
    video = track.kind == "video"
    stts = [struct.pack(">I", len(runs))] + [struct.pack(">II", *run) for run in runs]
    stsz = [struct.pack(">II", 0, len(samples))] + [struct.pack(">I", s.size) for s in samples]
    stco = [struct.pack(">I", len(offsets))] + [struct.pack(">I", o) for o in offsets]
    tables = [
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry(track)),
        full_box(b"stts", 0, 0, *stts),
        full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1)),
        full_box(b"stsz", 0, 0, *stsz),
        full_box(b"stco", 0, 0, *stco),
    ]
    if video:
        keys = [i + 1 for i, s in enumerate(samples) if s.keyframe]
        stss = [struct.pack(">I", len(keys))] + [struct.pack(">I", k) for k in keys]
        tables.insert(2, full_box(b"stss", 0, 0, *stss))
    return track_box(track, timescale=1000, duration=duration, tables=tables)


def track_box(track: Track, *, timescale: int, duration: int, tables: Sequence[bytes]) -> bytes:
    """A trak box: header, media header at ``timescale``, handler and the sample ``tables``."""
    video = track.kind == "video"
    media_header = (
        full_box(b"vmhd", 0, 1, b"\x00" * 8) if video else full_box(b"smhd", 0, 0, b"\x00" * 4)
    )
    handler = b"vide" if video else b"soun"
    name = b"VideoHandler\x00" if video else b"SoundHandler\x00"
    return box(
        b"trak",
        full_box(
            b"tkhd",
            0,
            3,
            struct.pack(">IIIII", 0, 0, track.number, 0, duration * 1000 // timescale),
            b"\x00" * 8,
            struct.pack(">hhhH", 0, 0, 0 if video else 0x0100, 0),
            _MATRIX,
            struct.pack(">II", track.width << 16, track.height << 16),
        ),
        box(
            b"mdia",
            full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0)),
            full_box(b"hdlr", 0, 0, b"\x00" * 4, handler, b"\x00" * 12, name),
            box(
                b"minf",
                media_header,
                box(
                    b"dinf",
                    full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)),
                ),
                box(b"stbl", *tables),
            ),
        ),
    )


def mp4_header(tracks: Sequence[Track], samples: Sequence[Mp4Sample], end_ms: int) -> bytes:
    """ftyp + moov + the mdat header; the samples' data must follow in ``samples`` order.

    Times are milliseconds; the clip starts at the first sample and ends at ``end_ms``.
    Tracks with no sample are left out.
    """
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    origin = min((s.time_ms for s in samples), default=0)
    data_size = sum(s.size for s in samples)
    used = [t for t in tracks if any(s.track == t.number for s in samples)]

    def moov(mdat_start: int) -> bytes:
        offsets: dict[int, list[int]] = {t.number: [] for t in used}
        position = mdat_start + 8
        for sample in samples:
            offsets[sample.track].append(position)
            position += sample.size
        traks = [
            _trak(t, [s for s in samples if s.track == t.number], offsets[t.number], origin, end_ms)
            for t in used
        ]
        duration = max(0, end_ms - origin)
        mvhd = full_box(
            b"mvhd",
            0,
            0,
            struct.pack(">IIIIIH", 0, 0, 1000, duration, 0x10000, 0x0100),
            b"\x00" * 10,
            _MATRIX,
            b"\x00" * 24,
            struct.pack(">I", max((t.number for t in used), default=0) + 1),
        )
        return box(b"moov", mvhd, *traks)

    # The moov's size does not depend on the offsets' values, only their count.
    size = len(moov(0))
    head = ftyp + moov(len(ftyp) + size)
    return head + struct.pack(">I", 8 + data_size) + b"mdat"
