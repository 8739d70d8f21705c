"""Test media for the audio tests: ffmpeg-made files and calls in Amazon Connect's layout.

A Connect fragment (SERVICE-NOTES.md, third round) is written with the tests'
Matroska builder: two tracks labelled ``A_AAC`` with a CodecPrivate, holding
raw 8 kHz s16le mono PCM, the service's tags before the Cluster and
``MimeType``, ``ContactId`` and the track-name tags after it. Each track's
samples follow :func:`sample_value`, a function of the track and the sample's
instant, so a test can say where every sample must land.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from mkvbuild import Builder

from kvarchive._matroska import ids as E
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_id, encode_size, encode_uint

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

RATE = 8000
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
NAMES = ("AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER")
MIME = "audio/L16;rate=8000;channels=1;"
# An AudioSpecificConfig of AAC-LC at 8 kHz, mono: what a producer that says A_AAC writes.
AAC_8K_MONO = bytes([0x15, 0x88])
B = Builder()


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly (it must succeed)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def ffmpeg_s16(path: Path, *, stream: str = "0:a:0") -> bytes:
    """What ffmpeg decodes of one audio stream of ``path``, as s16le interleaved."""
    answer = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", stream, "-f", "s16le", "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return answer.stdout


def sample_value(track: int, index: int) -> int:
    """The sample of ``track`` at sample ``index`` after T0: a distinct ramp per track."""
    return (index * 37 + track * 5000) % 30000 - 15000


def pcm(track: int, first: int, count: int) -> bytes:
    """``count`` samples of ``track`` from sample index ``first`` (s16le)."""
    return struct.pack(f"<{count}h", *(sample_value(track, first + k) for k in range(count)))


@attrs.frozen
class Block:
    """A block of one track: its first sample's index after T0 and its sample count."""

    track: int
    first: int
    count: int


def connect_tracks(names: Sequence[str] = NAMES, numbers: Sequence[int] = (1, 2)) -> bytes:
    """The Tracks of a Connect stream: A_AAC with a CodecPrivate, 8 kHz mono each."""
    entries = b""
    for number, name in zip(numbers, names):
        audio = B.el(E.SAMPLING_FREQUENCY, struct.pack(">d", RATE)) + B.el(E.CHANNELS, b"\x01")
        entries += B.el(
            E.TRACK_ENTRY,
            B.el(E.TRACK_NUMBER, encode_uint(number))
            + B.el(E.TRACK_UID, encode_uint(number))
            + B.el(E.TRACK_TYPE, b"\x02")
            + B.el(E.TRACK_NAME, name.encode())
            + B.el(E.CODEC_ID, b"A_AAC")
            + B.el(E.CODEC_PRIVATE, AAC_8K_MONO)
            + B.el(E.AUDIO, audio),
        )
    return B.el(E.TRACKS, entries)


def connect_fragment(
    number: str, blocks: Sequence[Block], *, mime: bool = True, tracks: bytes = b""
) -> bytes:
    """One fragment in Connect's layout whose Cluster starts at its first block's time."""
    start_ms = min(b.first for b in blocks) * 1000 // RATE
    epoch_ms = int(T0.timestamp() * 1000) + start_ms
    service = {
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": number,
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": f"{(epoch_ms + 300) / 1000:.3f}",
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": f"{epoch_ms / 1000:.3f}",
    }
    simple = [
        B.block(b.first * 1000 // RATE - start_ms, True, pcm(b.track, b.first, b.count), b.track)
        for b in blocks
    ]
    after = {"ContactId": "5f0b3e4a-0000-4000-8000-000000000001", "InstanceId": "i-1"}
    after |= {"MimeType": MIME} if mime else {}
    after |= {"AUDIO_FROM_CUSTOMER": "1", "AUDIO_TO_CUSTOMER": "2", "Events": "[]"}
    body = B.info() + (tracks or connect_tracks()) + B.tags(service)
    body += B.cluster(simple, known=False, timecode=epoch_ms)
    body += B.tags(after) + B.tags({"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "1200"})
    return B.header() + encode_id(E.SEGMENT) + encode_size(UNKNOWN_SIZE) + body


def call_blocks(start_ms: int, length_ms: int, block_ms: Sequence[int] = (20, 30)) -> list[Block]:
    """Blocks of both tracks over ``[start, start + length)``, unevenly interleaved: all of
    track 1's blocks, then all of track 2's, each track with its own block length."""
    blocks = []
    for track, step in enumerate(block_ms, start=1):
        for ms in range(start_ms, start_ms + length_ms, step):
            count = min(step, start_ms + length_ms - ms) * RATE // 1000
            blocks.append(Block(track, ms * RATE // 1000, count))
    return blocks


@attrs.frozen
class _Source:
    """A fragment's bytes, as the emulator asks for them."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def iter_chunks(self) -> Iterator[bytes]:
        yield self.data

    def frames(self) -> Sequence[Any]:
        return ()


def number(index: int) -> str:
    """The fragment number of the ``index``-th fragment of a test call (47 digits, as KVS's)."""
    return str(91343852333181432392682062591174131839009706440 + index * 1_000_000_007)


def call_fragments(
    spans: Sequence[tuple[int, int]], *, mime: bool = True
) -> list[tuple[str, int, int, bytes]]:
    """Connect fragments over ``spans`` ((start ms after T0, length ms)), unevenly interleaved."""
    return [
        (
            number(k),
            start,
            length,
            connect_fragment(number(k), call_blocks(start, length), mime=mime),
        )
        for k, (start, length) in enumerate(spans)
    ]


def serve(emulator: Any, name: str, fragments: Sequence[tuple[str, int, int, bytes]]) -> None:
    """Serve ``fragments`` ((number, start ms after T0, duration ms, bytes)) as stream ``name``.

    Through the emulator's public API: a stream is made, grown fragment by
    fragment from these bytes (``EmulatedStream.next_fragment``), and its
    first, synthetic fragment dropped.
    """
    from kvarchive.testing import FragmentRecord

    emulator.add_stream(name, fragment_count=1, start=T0 - timedelta(hours=1), payload_size=16)
    pending = iter(fragments)

    def next_fragment(last: Any) -> Any:
        fragment_number, start_ms, duration_ms, data = next(pending)
        producer_ms = int(T0.timestamp() * 1000) + start_ms
        return FragmentRecord(
            fragment_number,
            producer_ms + 300,
            producer_ms,
            duration_ms,
            len(data),
            last.index + 1,
            _Source(data),
        )

    emulator.stream(name).next_fragment = next_fragment
    emulator.append_fragments(name, len(fragments))
    emulator.drop_fragments(name, before=T0)
