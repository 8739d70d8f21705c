"""Tracks put on one sample clock, interleaved into frames of every channel.

Sample ``k`` of the output is at ``first instant + k / sample_rate``, the
first instant being the earliest block's time. Each block goes where its
time puts it (rounded to the sample), so time without media is silence and
tracks stay aligned across fragments and gaps. A block within
:data:`TOLERANCE` of where its track's previous block ended follows it
exactly: Matroska times are whole milliseconds, and a jitter of one must not
click. Blocks of different tracks arrive unevenly interleaved, so samples are
written once every track has reached them; a track that falls more than
:data:`LAG` behind the others counts as silent up to there, which bounds the
memory to that much audio whatever the stream does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Callable, Optional

from kvarchive._audio.models import AudioChunk
from kvarchive._errors import MediaParseError

__all__ = ["LAG", "TOLERANCE", "Mixer"]

TOLERANCE = timedelta(milliseconds=10)
LAG = timedelta(seconds=20)
_WRITE_EVERY = 8192  # samples: fewer, larger writes
_MICROSECOND = timedelta(microseconds=1)


class _Lane:
    """One track's samples not yet written, from the mixer's written mark on."""

    def __init__(self, channel_count: int) -> None:
        self.channels = channel_count
        self.pending = bytearray()
        self.cursor: Optional[int] = None  # sample index where its last block ended

    def end(self, written: int) -> int:
        return written + len(self.pending) // (2 * self.channels)


class Mixer:
    """Places the chunks of the given tracks (number: channels) and writes whole frames."""

    def __init__(
        self, tracks: Sequence[tuple[int, int]], sample_rate: int, write: Callable[[bytes], None]
    ) -> None:
        self._lanes = {number: _Lane(channels) for number, channels in tracks}
        self._order = [number for number, _ in tracks]
        self.channels = sum(channels for _, channels in tracks)
        self.sample_rate = sample_rate
        self._write = write
        self._first: Optional[datetime] = None
        self._written = 0  # samples written
        self._latest = 0  # the furthest end of a lane
        self._tolerance = round(TOLERANCE.total_seconds() * sample_rate)
        self._lag = round(LAG.total_seconds() * sample_rate)

    @property
    def start(self) -> Optional[datetime]:
        """The time of sample 0 (None before the first chunk)."""
        return self._first

    @property
    def samples(self) -> int:
        """Samples (per channel) written so far."""
        return self._written

    def add(self, chunk: AudioChunk) -> None:
        """Place one block's samples on the clock."""
        lane = self._lanes[chunk.track]
        if chunk.sample_rate != self.sample_rate or chunk.channels != lane.channels:
            raise MediaParseError(
                f"track {chunk.track}: {chunk.sample_rate} Hz, {chunk.channels} channel(s) in "
                f"mid-stream, not {self.sample_rate} Hz, {lane.channels} channel(s)"
            )
        if self._first is None:
            self._first = chunk.utc_time
        microseconds = (chunk.utc_time - self._first) // _MICROSECOND
        position = (microseconds * self.sample_rate + 500_000) // 1_000_000  # rounded
        if position < 0 and not self._written:  # an earlier block of another track: start there
            self._first = chunk.utc_time
            for other in self._lanes.values():
                other.pending[:0] = bytes(-position * 2 * other.channels)
                if other.cursor is not None:
                    other.cursor -= position
            self._latest -= position
            position = 0
        if lane.cursor is not None and abs(position - lane.cursor) <= self._tolerance:
            position = lane.cursor
        frame = 2 * lane.channels
        data = chunk.data
        if position < self._written:  # too late: those samples are written already
            data = data[(self._written - position) * frame :]
            position = self._written
        at = (position - self._written) * frame
        if at > len(lane.pending):
            lane.pending += bytes(at - len(lane.pending))
        lane.pending[at : at + len(data)] = data
        lane.cursor = position + len(data) // frame
        end = self._written + len(lane.pending) // frame
        self._latest = max(self._latest, end)
        due = self._written + _WRITE_EVERY
        # Nothing can be written before every lane (or the lag behind the latest) is due.
        if (end >= due or self._latest - self._lag >= due) and self._ready() >= due:
            self._flush(final=False)

    def _ready(self) -> int:
        """The sample up to which every lane is filled (or counts as silent, past the lag)."""
        ready = self._latest
        for lane in self._lanes.values():
            ready = min(ready, lane.end(self._written))
        return max(ready, self._latest - self._lag)

    def finish(self) -> None:
        """Write what is left (silence where a track ends early)."""
        self._flush(final=True)

    def _flush(self, *, final: bool) -> None:
        ready = self._latest if final else self._ready()
        count = ready - self._written
        if count <= 0 or (count < _WRITE_EVERY and not final):
            return
        out = bytearray(count * 2 * self.channels)
        step = 2 * self.channels
        channel = 0
        for number in self._order:
            lane = self._lanes[number]
            frame = 2 * lane.channels
            taken = bytes(lane.pending[: count * frame])
            del lane.pending[: count * frame]
            taken += bytes(count * frame - len(taken))
            for byte in range(frame):
                out[2 * channel + byte :: step] = taken[byte::frame]
            channel += lane.channels
        self._written = ready
        self._write(bytes(out))
