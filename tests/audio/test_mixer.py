"""The mixer's clock: where blocks land when times jitter, tracks start apart or go quiet."""

from __future__ import annotations

import struct
from datetime import timedelta

from calls import T0, pcm, sample_value

from kvarchive import AudioChunk
from kvarchive._audio.mixer import LAG, Mixer


def chunk(track: int, first: int, count: int, *, at: timedelta | None = None) -> AudioChunk:
    """``count`` samples of ``track`` from index ``first``, stamped at their instant (or ``at``)."""
    when = T0 + (timedelta(microseconds=first * 125) if at is None else at)
    return AudioChunk(track, None, when, 8000, 1, pcm(track, first, count))


def mixed(chunks: list[AudioChunk], tracks: int = 2) -> tuple[list[bytes], list[list[int]]]:
    """Every write of a mixer fed ``chunks``, and each channel of all it wrote."""
    writes: list[bytes] = []
    mixer = Mixer([(t, 1) for t in range(1, tracks + 1)], 8000, writes.append)
    for item in chunks:
        mixer.add(item)
    mixer.finish()
    data = b"".join(writes)
    samples = struct.unpack(f"<{len(data) // 2}h", data)
    return writes, [list(samples[c::tracks]) for c in range(tracks)]


def test_blocks_stamped_to_the_millisecond_follow_one_another_without_a_click() -> None:
    """Blocks of 235 samples (29.375 ms) stamped in whole ms play back to back, none dropped or doubled."""
    blocks = [
        chunk(1, k * 235, 235, at=timedelta(milliseconds=round(k * 29.375))) for k in range(40)
    ]
    _, (samples,) = mixed(blocks, tracks=1)
    assert samples == [sample_value(1, k) for k in range(40 * 235)]


def test_a_track_that_starts_earlier_but_arrives_later_moves_the_start() -> None:
    """Track 2 starting 100 samples before track 1, read after it: both land at their instant."""
    _, (first, second) = mixed([chunk(1, 100, 800), chunk(2, 0, 900)])
    assert first == [0] * 100 + [sample_value(1, k) for k in range(100, 900)]
    assert second == [sample_value(2, k) for k in range(900)]


def test_a_quiet_track_does_not_hold_the_other_back_past_the_lag() -> None:
    """Track 2 without blocks for a minute: track 1's samples are written as it goes, track 2 silent."""
    seconds = 60
    writes, (first, second) = mixed([chunk(1, k * 800, 800) for k in range(seconds * 10)])
    written_before_the_end = sum(len(w) for w in writes[:-1]) // 4
    assert written_before_the_end >= (seconds - LAG.total_seconds() - 1) * 8000
    assert first == [sample_value(1, k) for k in range(seconds * 8000)]
    assert second == [0] * (seconds * 8000)
