"""AudioResult in a notebook: an <audio> player of the WAV written, with its tracks and times."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, static_server

from kvarchive import ArchivedMediaClient, AudioResult
from kvarchive._notebook import AUDIO_INLINE_BYTES
from kvarchive.testing import Emulator

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
SOURCE = re.compile(r'<audio controls preload="\w+" src="([^"]+)"></audio>')


def call_wav(emulator: Emulator, kv: ArchivedMediaClient, path: Path, seconds: int) -> AudioResult:
    """The WAV of a ``seconds``-long emulated Connect call from T0, written at ``path``."""
    emulator.add_call_stream("call", fragment_count=seconds, start=T0)
    end = T0 + timedelta(hours=1)
    return kv.download_audio(stream_name="call", start=T0, end=end, path=path)


def shown(instant: datetime) -> str:
    """A time as kvarchive's tables print it: ``2026-11-30 11:59:59.632Z``."""
    return f"{instant:%Y-%m-%d %H:%M:%S}.{instant.microsecond // 1000:03d}Z"


def test_a_small_wav_plays_inline_with_its_tracks_and_times(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A 6 s call: its whole file in a data: URL, and a row of tracks, rate, length, times."""
    path = tmp_path / "call.wav"
    page = call_wav(emulator, kv, path, 6)._repr_html_()
    (source,) = SOURCE.findall(page)
    prefix = "data:audio/wav;base64,"
    assert source.startswith(prefix)
    assert base64.b64decode(source[len(prefix) :]) == path.read_bytes()
    start = emulator.stream("call").fragments[0].producer_timestamp  # the media's clock
    row = re.search(r"<tbody><tr>(.*)</tr></tbody>", page)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[:3] == ["AUDIO_FROM_CUSTOMER, AUDIO_TO_CUSTOMER", "8000 Hz", "6.000s"]
    assert cells[3:5] == [shown(start), shown(start + timedelta(seconds=6))]
    assert cells[5] == f"{path} ({path.stat().st_size} bytes)"


def test_a_large_wav_plays_from_its_relative_path(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past AUDIO_INLINE_BYTES the player points at the file relative to the working folder."""
    monkeypatch.chdir(tmp_path)
    seconds = AUDIO_INLINE_BYTES // 32_000 + 2  # stereo 8 kHz s16le: 32 kB a second
    result = call_wav(emulator, kv, tmp_path / "calls" / "long call.wav", seconds)
    page = result._repr_html_()
    assert SOURCE.findall(page) == ["calls/long%20call.wav"]
    assert "data:" not in page


def test_a_moved_file_says_there_is_nothing_to_play(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A result whose file was deleted shows no player but says the file is gone."""
    path = tmp_path / "call.wav"
    result = call_wav(emulator, kv, path, 2)
    path.unlink()
    page = result._repr_html_()
    assert "<audio" not in page and f"{path} is no longer there" in page


@pytest.mark.parametrize("seconds", [6, AUDIO_INLINE_BYTES // 32_000 + 2], ids=["inline", "file"])
def test_chromium_loads_the_player_with_the_calls_length(
    emulator: Emulator,
    kv: ArchivedMediaClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seconds: int,
) -> None:
    """The HTML in a page served as a notebook's folder is: Chromium's <audio> has the duration."""
    monkeypatch.chdir(tmp_path)
    result = call_wav(emulator, kv, tmp_path / "call.wav", seconds)
    (tmp_path / "page.html").write_text(f"<!doctype html><body>{result._repr_html_()}</body>")
    with chromium() as browser, static_server(tmp_path) as base:
        page: Any = browser.new_page()
        page.goto(f"{base}/page.html")
        page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
        duration = page.evaluate("() => document.querySelector('audio').duration")
    assert duration == pytest.approx(seconds, abs=0.01)
