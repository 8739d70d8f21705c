"""download_audio over HTTP against the emulator: one WAV, every channel on one clock."""

from __future__ import annotations

import os
import signal
import struct
import threading
import tracemalloc
import wave
from datetime import timedelta
from pathlib import Path

import pytest
from calls import (
    NAMES,
    RATE,
    T0,
    B,
    Block,
    call_blocks,
    call_fragments,
    connect_fragment,
    connect_tracks,
    number,
    pcm,
    sample_value,
    serve,
)

from kvarchive import ArchivedMediaClient, AudioResult, MediaStream
from kvarchive._matroska import ids as E
from kvarchive.errors import ValidationError
from kvarchive.testing import Emulator

END = T0 + timedelta(hours=2)


def channels_of(path: Path) -> tuple[int, list[list[int]]]:
    """The rate and each channel's samples of a WAV file, read with Python's wave module."""
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2
        count, frames = wav.getnchannels(), wav.readframes(wav.getnframes())
        rate = wav.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return rate, [list(samples[c::count]) for c in range(count)]


def test_a_call_with_a_gap_is_written_aligned_to_the_sample(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Two tracks of blocks interleaved unevenly, a 700 ms gap: every sample at its instant, silence in the gap."""
    spans = [(0, 1000), (1000, 1000), (2700, 1000), (3700, 1300)]
    serve(emulator, "call", call_fragments(spans))
    path = tmp_path / "calls" / "call.wav"
    result = kv.download_audio(stream_name="call", start=T0, end=END, path=path)
    assert result == AudioResult(
        path=path,
        tracks=("AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER"),
        sample_rate=RATE,
        channels=2,
        duration=timedelta(seconds=5),
        fragment_count=4,
        bytes_written=path.stat().st_size,
        start=T0,
    )
    rate, channels = channels_of(path)
    stored = {k for start, length in spans for k in range(start * 8, (start + length) * 8)}
    for track, samples in enumerate(channels, start=1):
        assert len(samples) == 5 * RATE
        expected = [sample_value(track, k) if k in stored else 0 for k in range(len(samples))]
        assert samples == expected
    assert rate == RATE


def test_tracks_chosen_by_name_come_in_that_order(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """tracks=[2, "AUDIO_FROM_CUSTOMER"] puts track 2 on channel 0 and track 1 on channel 1."""
    serve(emulator, "call", call_fragments([(0, 1000)]))
    path = tmp_path / "call.wav"
    result = kv.download_audio(
        stream_name="call", start=T0, end=END, path=path, tracks=[2, "AUDIO_FROM_CUSTOMER"]
    )
    assert result.tracks == ("AUDIO_TO_CUSTOMER", "AUDIO_FROM_CUSTOMER")
    _, (first, second) = channels_of(path)
    assert first[:100] == [sample_value(2, k) for k in range(100)]
    assert second[:100] == [sample_value(1, k) for k in range(100)]


def two_rates() -> bytes:
    """A fragment whose PCM tracks run at 8 and 16 kHz."""
    entries = b""
    for track, rate in ((1, 8000.0), (2, 16000.0)):
        audio = B.el(E.SAMPLING_FREQUENCY, struct.pack(">d", rate)) + B.el(0x6264, b"\x10")
        entries += B.el(
            E.TRACK_ENTRY,
            B.el(E.TRACK_NUMBER, bytes([track]))
            + B.el(E.TRACK_TYPE, b"\x02")
            + B.el(E.TRACK_NAME, f"mic{track}".encode())
            + B.el(E.CODEC_ID, b"A_PCM/INT/LIT")
            + B.el(E.AUDIO, audio),
        )
    blocks = [Block(1, 0, 80), Block(2, 0, 80)]
    return connect_fragment(number(0), blocks, tracks=B.el(E.TRACKS, entries))


def test_tracks_of_different_rates_are_refused_naming_them_and_nothing_is_written(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Tracks at 8 and 16 kHz: a ValidationError naming both rates, and no file at all."""
    serve(emulator, "mics", [(number(0), 0, 1000, two_rates())])
    with pytest.raises(ValidationError, match=r"'mic1': 8000 Hz, 'mic2': 16000 Hz"):
        kv.download_audio(stream_name="mics", start=T0, end=END, path=tmp_path / "mics.wav")
    assert os.listdir(tmp_path) == []


def test_an_unknown_track_is_refused_naming_those_there_are(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """tracks=["AGENT"] on a Connect call: a ValidationError listing its two tracks, no file."""
    emulator.add_call_stream("call", fragment_count=1, start=T0)
    with pytest.raises(ValidationError, match=r"AUDIO_FROM_CUSTOMER.*AUDIO_TO_CUSTOMER"):
        kv.download_audio(
            stream_name="call", start=T0, end=END, path=tmp_path / "c.wav", tracks=["AGENT"]
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"tracks": [0]},
        {"tracks": []},
        {"end": T0 - timedelta(seconds=1)},
        {"timestamp_type": "SERVER"},
        {"stream_arn": "arn:aws:kinesisvideo:us-east-1:123456789012:stream/call/1"},
    ],
)
def test_wrong_arguments_fail_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path, arguments: dict[str, object]
) -> None:
    """Arguments wrong whatever the media holds are ValidationErrors before any request."""
    call = {"stream_name": "call", "start": T0, "end": END, "path": tmp_path / "c.wav", **arguments}
    with pytest.raises(ValidationError):
        kv.download_audio(**call)  # type: ignore[arg-type]
    assert emulator.count() == 0
    assert os.listdir(tmp_path) == []


def test_a_folder_for_path_is_refused_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """path naming a folder is a ValidationError, as for every other writer."""
    with pytest.raises(ValidationError, match="must name a file"):
        kv.download_audio(stream_name="call", start=T0, end=END, path=tmp_path)
    assert emulator.count() == 0


def test_a_long_call_is_written_in_the_memory_of_a_few_fragments(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Ten minutes of a two-track call (19.2 MB of WAV): Python's allocations peak under 8 MB,
    whatever the call's length (once botocore has loaded its models, by a first short call).

    The in-process emulator's allocations count too: about 2 MB on Python 3.11, 5 MB on 3.13.
    """
    serve(emulator, "long", call_fragments([(1000 * k, 1000) for k in range(600)]))
    first = T0 + timedelta(seconds=1)
    kv.download_audio(stream_name="long", start=T0, end=first, path=tmp_path / "first.wav")
    tracemalloc.start()
    try:
        result = kv.download_audio(stream_name="long", start=T0, end=END, path=tmp_path / "l.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.duration == timedelta(minutes=10)
    assert result.bytes_written > 19_200_000
    assert peak < 8_000_000


def test_a_download_recording_of_a_call_reads_back_as_the_call(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """download()'s one-document MKV of a Connect call: iter_audio finds the MimeType after
    each Cluster and gives every stored sample of both tracks, at its instant."""
    spans = [(0, 1000), (1000, 1000), (2700, 1000)]
    serve(emulator, "call", call_fragments(spans))
    path = tmp_path / "call.mkv"
    kv.download(stream_name="call", start=T0, end=END, path=path)
    with MediaStream.from_file(path) as media:
        chunks = list(media.iter_audio())
    for track in (1, 2):
        mine = [c for c in chunks if c.track == track]
        assert b"".join(c.data for c in mine) == b"".join(
            pcm(track, start * 8, length * 8) for start, length in spans
        )
        assert mine[0].utc_time == T0


def test_every_audio_track_comes_in_track_number_order(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Tracks listed 2 then 1: without tracks=, channel 0 is track 1 and channel 1 track 2."""
    tracks = connect_tracks(NAMES[::-1], numbers=(2, 1))
    blocks = call_blocks(0, 1000)
    serve(
        emulator, "call", [(number(0), 0, 1000, connect_fragment(number(0), blocks, tracks=tracks))]
    )
    path = tmp_path / "call.wav"
    result = kv.download_audio(stream_name="call", start=T0, end=END, path=path)
    assert result.tracks == NAMES
    _, (first, second) = channels_of(path)
    assert (first[:50], second[:50]) == (
        [sample_value(1, k) for k in range(50)],
        [sample_value(2, k) for k in range(50)],
    )


def test_ctrl_c_in_the_middle_leaves_no_file(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A real SIGINT while the media streams in: KeyboardInterrupt, and nothing left on disk."""
    emulator.add_call_stream("call", fragment_count=60, start=T0)
    emulator.bandwidth(200_000)  # 2 MB of media: about ten seconds
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            kv.download_audio(stream_name="call", start=T0, end=END, path=tmp_path / "c.wav")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert os.listdir(tmp_path) == []
