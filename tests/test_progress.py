"""Progress bars: tqdm on a terminal, silence elsewhere."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kvarchive import ArchivedMediaClient
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_download_is_silent_off_a_terminal(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """progress=True prints nothing when stderr is not a terminal."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    kv.download(
        stream_name="cam",
        start=T0,
        end=T0 + timedelta(minutes=1),
        path=tmp_path / "x.mkv",
        progress=True,
    )
    assert capsys.readouterr().err == ""


def test_download_draws_a_bar_on_a_terminal(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, download(progress=True) draws a tqdm bar that reaches the total."""
    pytest.importorskip("tqdm")
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    kv.download(
        stream_name="cam",
        start=T0,
        end=T0 + timedelta(minutes=1),
        path=tmp_path / "x.mkv",
        progress=True,
    )
    assert "download" in terminal.getvalue()
    assert "100%" in terminal.getvalue()
