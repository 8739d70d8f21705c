"""``kvarchive audio``: a stream's or a local file's audio tracks written as one WAV file."""

from __future__ import annotations

import array
import json
import os
import signal
import subprocess
import sys
import time
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kvarchive.cli import main
from kvarchive.testing import Emulator, call_voices

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)``; return its status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def interleaved(*tracks: bytes, loops: int = 1) -> bytes:
    """Mono s16le tracks as the frames of one WAV, each played ``loops`` times."""
    channels = [array.array("h", track * loops) for track in tracks]
    frames = array.array("h", bytes(2 * len(channels[0]) * len(channels)))
    for index, channel in enumerate(channels):
        frames[index :: len(channels)] = channel
    return frames.tobytes()


def samples_of(path: Path) -> tuple[int, int, bytes]:
    """A WAV file's channels, rate and frames, read with Python's wave module."""
    with wave.open(str(path)) as wav:
        return wav.getnchannels(), wav.getframerate(), wav.readframes(wav.getnframes())


@pytest.fixture
def call(emulator: Emulator) -> list[str]:
    """A 6 s call in Connect's layout from T0: the options that reach it and name its range."""
    emulator.add_call_stream("call", fragment_count=6, start=T0)
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", "audio"]
    end = T0 + timedelta(minutes=1)
    return [*base, "--stream-name", "call", "--start", T0.isoformat(), "--end", end.isoformat()]


def test_a_calls_two_tracks_become_one_stereo_wav(
    capsys: pytest.CaptureFixture[str], call: list[str], tmp_path: Path
) -> None:
    """The customer on channel 0 and the agent on channel 1, sample for sample, and a line."""
    path = tmp_path / "calls" / "call.wav"
    status, out, err = run(capsys, *call, "-o", str(path))
    assert status == 0, err
    assert samples_of(path) == (2, 8000, interleaved(*call_voices(), loops=2))
    assert out == f"{path}\tAUDIO_FROM_CUSTOMER, AUDIO_TO_CUSTOMER\t8000 Hz\t6 s\t192104 bytes\n"


def test_tracks_come_in_the_order_given_by_name_or_number(
    capsys: pytest.CaptureFixture[str], call: list[str], tmp_path: Path
) -> None:
    """``--track AUDIO_TO_CUSTOMER --track 1`` puts the agent first, the customer second."""
    path = tmp_path / "call.wav"
    argv = [*call, "--track", "AUDIO_TO_CUSTOMER", "--track", "1", "-o", str(path)]
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    customer, agent = call_voices()
    assert samples_of(path) == (2, 8000, interleaved(agent, customer, loops=2))


def test_json_prints_the_result(
    capsys: pytest.CaptureFixture[str], call: list[str], tmp_path: Path
) -> None:
    """``--output json`` prints the AudioResult's facts as one JSON object."""
    path = tmp_path / "call.wav"
    status, out, err = run(capsys, *call, "--output", "json", "-o", str(path))
    assert status == 0, err
    assert json.loads(out) == {
        "path": str(path),
        "tracks": ["AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER"],
        "sample_rate": 8000,
        "channels": 2,
        "duration_seconds": 6.0,
        "fragment_count": 6,
        "bytes_written": os.path.getsize(path),
    }


def test_an_empty_range_says_so_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], emulator: Emulator, tmp_path: Path
) -> None:
    """A range without fragments: exit 1, one line on stderr saying so, no file."""
    emulator.add_call_stream("call", fragment_count=2, start=T0)
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]
    argv = [*base, "audio", "--stream-name", "call", "--start", "2025-01-01", "--end", "2025-01-02"]
    status, out, err = run(capsys, *argv, "-o", str(tmp_path / "call.wav"))
    assert (status, out) == (1, "")
    assert err.startswith("kvarchive: error: no fragments between ") and err.count("\n") == 1
    assert "no audio to write" in err
    assert os.listdir(tmp_path) == []


def test_an_unknown_track_is_refused_naming_the_calls_tracks(
    capsys: pytest.CaptureFixture[str], call: list[str], tmp_path: Path
) -> None:
    """``--track AGENT``: exit 2 with a line naming the tracks there are, no file."""
    status, out, err = run(capsys, *call, "--track", "AGENT", "-o", str(tmp_path / "c.wav"))
    assert (status, out) == (2, "")
    assert "AUDIO_FROM_CUSTOMER" in err and "AUDIO_TO_CUSTOMER" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--file", "x.mkv", "--start", "-1h"], "--file reads the whole file"),
        (["--stream-name", "call", "--start", "-1h"], "a stream needs --start and --end"),
    ],
)
def test_bad_usage_exits_2_naming_the_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], said: str
) -> None:
    """--start with --file, or a stream without --end: exit 2 before anything is written."""
    status, _, err = run(capsys, "audio", *argv, "-o", str(tmp_path / "out" / "c.wav"))
    assert status == 2 and said in err
    assert not (tmp_path / "out").exists()


def test_a_local_file_needs_no_aws_configuration(emulator: Emulator, tmp_path: Path) -> None:
    """``audio --file`` on a call's Matroska body runs under env -i and writes its voices."""
    call = emulator.add_call_stream("call", fragment_count=3, start=T0)
    media = emulator.client().get_media_for_fragment_list(
        stream_name="call", fragments=[f.number for f in call.fragments]
    )
    source = tmp_path / "call.mkv"
    source.write_bytes(media.read())
    script = Path(sys.executable).with_name("kvarchive")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    argv = [str(script), "audio", "--file", str(source), "-o", "out/call.wav", "--output", "json"]
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["duration_seconds"] == 3.0
    assert samples_of(tmp_path / "out" / "call.wav") == (2, 8000, interleaved(*call_voices()))


def test_a_bar_is_drawn_on_a_terminal(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, audio draws a progress bar over the bytes read, to 100%."""
    pytest.importorskip("tqdm")

    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            pass

    call = emulator.add_call_stream("call", fragment_count=3, start=T0)
    source = tmp_path / "call.mkv"
    source.write_bytes(b"".join(f.data() for f in call.fragments))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["audio", "--file", str(source), "-o", str(tmp_path / "call.wav")]) == 0
    assert "audio" in terminal.text and "100%" in terminal.text


def test_ctrl_c_exits_130_leaving_no_file(emulator: Emulator, tmp_path: Path) -> None:
    """SIGINT while a long call streams in slowly: exit 130, 'interrupted', and no file at all."""
    emulator.add_call_stream("call", fragment_count=60, start=T0)
    emulator.bandwidth(200_000)  # 2 MB of media: about ten seconds
    folder = tmp_path / "out"
    argv = [sys.executable, "-m", "kvarchive", "--endpoint-url", emulator.endpoint_url]
    argv += ["--region", "us-east-1", "audio", "--stream-name", "call"]
    argv += ["--start", T0.isoformat(), "--end", (T0 + timedelta(minutes=2)).isoformat()]
    argv += ["-o", str(folder / "call.wav")]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    ) as child:
        try:
            deadline = time.monotonic() + 60
            while emulator.count("GetMediaForFragmentList") == 0:
                assert child.poll() is None, child.communicate()
                assert time.monotonic() < deadline, "no media was asked for"
                time.sleep(0.01)
            time.sleep(0.5)
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=30)
        finally:
            child.kill()
    assert child.returncode == 130
    assert stderr == "kvarchive: interrupted\n"
    assert os.listdir(folder) == []
