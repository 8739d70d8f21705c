"""Fragmented MP4 for HLS (``FRAGMENTED_MP4``) and DASH: an init segment, then moof + mdat.

As the Kinesis Video Streams developer guide describes GetMP4InitFragment and
GetMP4MediaFragment: the init segment holds ``ftyp`` and ``moov`` (here one
track, with ``mvex`` so players expect fragments), and each media segment holds
the ``moof`` and ``mdat`` of one KVS fragment of that track. Decode times
(``tfdt``) come from the session's timeline, so they run on from one segment
to the next.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from kvarchive.testing._mkv_writer import Track
from kvarchive.testing._mp4 import box, full_box, sample_entry, track_box
from kvarchive.testing._playback.timeline import TimedFrame, timescale

__all__ = ["init_segment", "media_segment"]

# tfhd: default-base-is-moof, so trun's data offset counts from the moof's first byte.
_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
# trun: data-offset, sample-duration, sample-size and sample-flags present.
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400
# Sample flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on no other;
# any other depends on others and is not a sync sample.
_SYNC_SAMPLE = 0x02000000
_OTHER_SAMPLE = 0x01010000


def init_segment(track: Track) -> bytes:
    """``ftyp`` + ``moov`` for ``track`` alone, with empty sample tables and an ``mvex``."""
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6iso5mp41")
    empty_tables = [
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry(track)),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    ]
    trak = track_box(track, timescale=timescale(track), duration=0, tables=empty_tables)
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x0100),
        b"\x00" * 10,
        struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000),
        b"\x00" * 24,
        struct.pack(">I", track.number + 1),
    )
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", track.number, 1, 0, 0, 0))
    return ftyp + box(b"moov", mvhd, trak, box(b"mvex", trex))


def media_segment(sequence: int, track: Track, frames: Sequence[TimedFrame]) -> list[bytes]:
    """The ``moof`` and ``mdat`` of one fragment of ``track``, as the header then each frame.

    ``sequence`` is the fragment's sequence number in the session (``mfhd``
    counts from 1). The frames' data follow the header unchanged: MP4 and
    Matroska both hold H.264 as length-prefixed NAL units and AAC as raw frames.
    """
    decode_time = frames[0].time if frames else 0
    entries = b"".join(
        struct.pack(
            ">III",
            frame.duration,
            len(frame.data),
            _SYNC_SAMPLE if frame.keyframe or track.kind != "video" else _OTHER_SAMPLE,
        )
        for frame in frames
    )

    def moof(data_offset: int) -> bytes:
        header = struct.pack(">Ii", len(frames), data_offset)
        trun = full_box(b"trun", 0, _TRUN_FLAGS, header, entries)
        traf = box(
            b"traf",
            full_box(b"tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, struct.pack(">I", track.number)),
            full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
            trun,
        )
        return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence + 1)), traf)

    # The trun's own size is fixed, so the moof's size does not depend on the offset.
    size = len(moof(0))
    data_size = sum(len(frame.data) for frame in frames)
    header = moof(size + 8) + struct.pack(">I", 8 + data_size) + b"mdat"
    return [header, *(frame.data for frame in frames)]
