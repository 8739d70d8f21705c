"""The WAV header: what readers make of it, up to and past 4 GiB."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import pytest
from calls import needs_ffmpeg

from kvarchive._audio.wav import HEADER_SIZE, wav_header


def ffprobe(path: Path) -> dict[str, str]:
    """What ffprobe reads of the file's audio stream (format, rate, channels, duration)."""
    entries = "stream=codec_name,sample_rate,channels,duration_ts:format=format_name"
    answer = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(answer.stdout)
    return {**report["streams"][0], **report["format"]}


@needs_ffmpeg
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_header_is_read_by_ffprobe_and_python_wave(channels: int, tmp_path: Path) -> None:
    """Plain PCM up to two channels, WAVE_FORMAT_EXTENSIBLE above: both readers agree on it."""
    path = tmp_path / "a.wav"
    data = bytes(2 * channels * 800)
    path.write_bytes(wav_header(8000, channels, len(data)) + data)
    found = ffprobe(path)
    assert (found["codec_name"], found["sample_rate"], found["channels"]) == (
        "pcm_s16le",
        "8000",
        channels,
    )
    assert found["duration_ts"] == 800
    if channels <= 2:  # Python's wave reads WAVE_FORMAT_EXTENSIBLE only from 3.12
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (
                channels,
                8000,
                800,
            )


@needs_ffmpeg
def test_past_four_gib_the_file_is_rf64_with_its_real_length(tmp_path: Path) -> None:
    """Five GiB of samples (a sparse file): RF64 with a ds64 chunk, the whole length read."""
    size = 5 << 30
    path = tmp_path / "big.wav"
    with open(path, "wb") as out:
        out.write(wav_header(8000, 2, size))
        out.truncate(HEADER_SIZE + size)
    with open(path, "rb") as written:
        assert written.read(4) == b"RF64"
    found = ffprobe(path)
    assert found["format_name"] == "wav" and found["duration_ts"] == size // 4
