"""emu.add_call_stream: a phone call in Amazon Connect's real layout, served over HTTP."""

from __future__ import annotations

import subprocess
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pictures import needs_ffmpeg
from realdata import needs_mkvinfo

from kvarchive import ArchivedMediaClient
from kvarchive.testing import Emulator, call_voices

DATA = Path(__file__).resolve().parents[2] / "kvarchive" / "testing" / "data"
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def ffmpeg_s16(path: Path) -> bytes:
    """What ffmpeg decodes of ``path``'s first audio stream, as s16le interleaved."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"]
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout


@needs_mkvinfo
def test_a_call_fragment_has_connects_tracks_blocks_and_tags(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A fragment served by GetMediaForFragmentList, read by mkvinfo, is laid out as Connect's."""
    stream = emulator.add_call_stream("call", fragment_count=2, start=T0, contact_id="c-1")
    media = kv.get_media_for_fragment_list(
        stream_name="call", fragments=[stream.fragments[0].number]
    )
    path = tmp_path / "fragment.mkv"
    path.write_bytes(media.read())
    info = subprocess.run(
        ["mkvinfo", "-v", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "Title: Kinesis Video SDK" in info
    assert "Multiplexing application: Kinesis Video SDK 1.1.0 JNI 2.0" in info
    assert info.count("Codec ID: A_AAC") == 2
    assert info.count("Codec's private data") == 2
    assert [line.strip(" |+") for line in info.splitlines() if "Name: AUDIO_" in line][:2] == [
        "Name: AUDIO_FROM_CUSTOMER",
        "Name: AUDIO_TO_CUSTOMER",
    ]
    assert info.count("Simple block: key") == 34
    after = info[info.rindex("Simple block") :]
    names = [line.split("Name: ")[1] for line in after.splitlines() if "+ Name: " in line]
    assert names == [
        "MimeType",
        "ContactId",
        "InstanceId",
        "AUDIO_FROM_CUSTOMER",
        "AUDIO_TO_CUSTOMER",
        "Events",
        "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW",
    ]
    assert "String: audio/L16;rate=8000;channels=1;" in after and "String: c-1" in after


@needs_ffmpeg
def test_the_calls_wav_is_the_shipped_voices_in_a_loop(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Six one-second fragments give the 3 s recording twice, customer left, as ffmpeg reads it."""
    emulator.add_call_stream("call", fragment_count=6, start=T0)
    path = tmp_path / "call.wav"
    result = kv.download_audio(
        stream_name="call", start=T0, end=T0 + timedelta(seconds=10), path=path
    )
    assert (result.channels, result.sample_rate) == (2, 8000)
    assert result.duration == timedelta(seconds=6)
    assert ffmpeg_s16(path) == ffmpeg_s16(DATA / "call-voices.wav") * 2


def test_call_voices_are_the_shipped_recordings_channels() -> None:
    """call_voices() gives the customer's and the agent's samples of the bundled WAV."""
    with wave.open(str(DATA / "call-voices.wav")) as wav:
        frames = wav.readframes(wav.getnframes())
    customer, agent = call_voices()
    assert b"".join(frames[k : k + 2] for k in range(0, len(frames), 4)) == customer
    assert b"".join(frames[k + 2 : k + 4] for k in range(0, len(frames), 4)) == agent


def test_a_call_grows_as_its_producer_would(emulator: Emulator) -> None:
    """append_fragments adds the next second of the call, one second after the last."""
    stream = emulator.add_call_stream("call", fragment_count=1, start=T0)
    (added,) = emulator.append_fragments("call")
    assert added.server_ms - stream.fragments[0].server_ms == 1000
    assert int(added.number) > int(stream.fragments[0].number)


def test_a_bad_call_name_is_refused() -> None:
    """A stream name the service would refuse raises ValueError."""
    with Emulator() as emu, pytest.raises(ValueError, match="invalid stream name"):
        emu.add_call_stream("no spaces")
