"""Frames of one KVS fragment placed on a playback session's timeline.

The HLS and DASH muxers (:mod:`.fmp4`, :mod:`.mpegts`) take frames whose
times are already in the track's timescale; this module puts them there. A
fragment starts at its position on the session's timeline (milliseconds from
the session's first fragment), and each frame keeps its offset from the
fragment's start, so consecutive fragments of a contiguous stream get
continuous decode times.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kvarchive.testing._mkv_writer import MediaFrame, Track

__all__ = ["AAC_FRAME_SAMPLES", "VIDEO_TIMESCALE", "TimedFrame", "timed_frames", "timescale"]

VIDEO_TIMESCALE = 90_000
"""Video ticks per second: MPEG-TS's clock, and the usual one in fragmented MP4."""

AAC_FRAME_SAMPLES = 1024
"""Samples in one AAC-LC frame (ISO/IEC 14496-3), the duration of a lone or last frame."""


@attrs.frozen
class TimedFrame:
    """A frame on the session's timeline: decode (= presentation) time and duration in ticks."""

    time: int
    duration: int
    keyframe: bool
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")


def timescale(track: Track) -> int:
    """Ticks per second of ``track`` in fragmented MP4: 90 kHz video, audio at its sample rate."""
    return VIDEO_TIMESCALE if track.kind == "video" else track.sample_rate


def timed_frames(
    frames: Sequence[MediaFrame],
    track: Track,
    *,
    position_ms: int,
    duration_ms: int,
    ticks: int,
) -> list[TimedFrame]:
    """The frames of ``track`` in a fragment at ``position_ms``, timed in ``ticks`` per second.

    Frames carry no B-frame reordering (KVS producers send decode order with
    presentation times, as the emulator's streams do), so decode time is
    presentation time. A frame lasts until the next one; the last video frame
    lasts until the fragment's end, the last audio frame one AAC frame.
    """
    chosen = [f for f in frames if f.track == track.number]
    times = [(position_ms + f.offset_ms) * ticks // 1000 for f in chosen]
    end = (position_ms + duration_ms) * ticks // 1000
    if track.kind == "video":
        last = max(1, end - times[-1]) if times else 0
    else:
        last = AAC_FRAME_SAMPLES * ticks // max(1, track.sample_rate)
    durations = [max(1, b - a) for a, b in zip(times, times[1:])] + ([last] if times else [])
    return [
        TimedFrame(time, duration, frame.keyframe, frame.data())
        for frame, time, duration in zip(chosen, times, durations)
    ]
