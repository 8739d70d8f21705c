"""What the command line prints: JSON for every result, one-line warnings, quiet broken pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from kvarchive.cli import main
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
START, END = "2026-01-01T12:00:00Z", "2026-01-01T12:00:20Z"
TIMES = ["--start", START, "--end", END]


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """A stream "cam" of 10 fragments of 2 s from T0."""
    return emulator.add_stream("cam", fragment_count=10, start=T0, payload_size=512)


def run_json(emulator: Emulator, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str]:
    """Run a command with ``--output json``; return the parsed stdout and stderr."""
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]
    status = main([*base, *argv, "--stream-name", "cam", "--output", "json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out), err


def test_endpoint_json(emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """``endpoint --output json`` names the API and its endpoint."""
    record, _ = run_json(emulator, capsys, "endpoint", "get_clip")
    assert record == {"api_name": "GET_CLIP", "data_endpoint": emulator.data_endpoint_url}


@pytest.mark.parametrize("command", ["hls-url", "dash-url"])
def test_session_url_json(
    emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """``hls-url``/``dash-url --output json`` give the URL and the playback mode chosen."""
    record, _ = run_json(emulator, capsys, command, *TIMES)
    assert record["playback_mode"] == "ON_DEMAND"
    assert "SessionToken=" in record["url"]
    assert set(record) == {"url", "playback_mode"}


def test_clip_json(
    emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``clip --output json`` gives the path written and its size."""
    target = tmp_path / "clip.mp4"
    record, _ = run_json(emulator, capsys, "clip", *TIMES, "-o", str(target))
    assert record == {"path": str(target), "bytes_written": target.stat().st_size}


def test_clips_json(
    emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``clips --output json`` lists every clip written, with its fragments and bytes."""
    records, _ = run_json(emulator, capsys, "clips", *TIMES, "-o", str(tmp_path / "clips"))
    assert [os.path.basename(r["path"]) for r in records] == ["clip-0001.mp4"]
    assert records[0]["fragment_count"] == 10
    assert records[0]["bytes_written"] == Path(records[0]["path"]).stat().st_size


def test_images_json(
    emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``images --output json`` lists each image's time and path, and counts the instants."""
    folder = tmp_path / "frames"
    times = ["--start", "2026-01-01T11:59:56Z", "--end", "2026-01-01T12:00:06Z"]
    record, err = run_json(
        emulator, capsys, "images", *times, "--interval", "2000", "-o", str(folder)
    )
    assert record["folder"] == str(folder)
    assert record["instants"] == 6
    assert record["no_media"] == 2
    assert record["media_error"] == []
    assert [i["timestamp"] for i in record["images"]] == [
        "2026-01-01T12:00:00.000Z",
        "2026-01-01T12:00:02.000Z",
        "2026-01-01T12:00:04.000Z",
        "2026-01-01T12:00:06.000Z",
    ]
    assert sorted(str(p) for p in folder.iterdir()) == [i["path"] for i in record["images"]]
    assert err.count("\n") == 1


def test_download_json(
    emulator: Emulator, cam: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``download --output json`` gives the path, fragment count and bytes written."""
    target = tmp_path / "x.mkv"
    record, _ = run_json(emulator, capsys, "download", *TIMES, "-o", str(target))
    assert record == {
        "path": str(target),
        "fragment_count": 10,
        "bytes_written": target.stat().st_size,
    }


def test_demo_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``demo --output json`` prints only the files written as JSON; the tour goes to stderr."""
    assert main(["demo", "-o", str(tmp_path), "--output", "json"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert record["folder"] == str(tmp_path)
    assert sorted(record["written"]) == sorted(str(p) for p in tmp_path.iterdir())
    assert "Local emulator at" in err


def child(emulator: Emulator, *argv: str, **popen: Any) -> subprocess.Popen[str]:
    """``python -m kvarchive`` against the emulator, in a child process."""
    command = [sys.executable, "-m", "kvarchive", "--endpoint-url", emulator.endpoint_url]
    return subprocess.Popen(
        [*command, "--region", "us-east-1", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        **popen,
    )


def test_clip_truncation_warning_is_one_line_naming_the_cli_way(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A clip bound to be cut short warns in one line that names ``kvarchive clips``."""
    emulator.add_stream("long", fragment_count=300, start=T0, fragment_duration_ms=1000)
    target = tmp_path / "clip.mp4"
    times = ["--start", START, "--end", "2026-01-01T12:10:00Z"]
    with child(emulator, "clip", "--stream-name", "long", *times, "-o", str(target)) as process:
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert out == f"{target}\n"
    assert err.count("\n") == 1
    assert err.startswith("kvarchive: warning: this range holds 300 fragments")
    assert "'kvarchive clips -o DIR'" in err
    assert "download_clips" not in err and ".py" not in err


@pytest.mark.parametrize("output", ["table", "json", "csv"])
def test_a_pipe_closed_early_ends_quietly(emulator: Emulator, output: str) -> None:
    """``kvarchive fragments | head -1``: no "Broken pipe", no traceback, status 141 as for SIGPIPE."""
    emulator.add_stream("many", fragment_count=3000, start=T0, payload_size=16)
    times = ["--start", START, "--end", "2026-01-01T14:00:00Z"]
    with child(
        emulator, "fragments", "--stream-name", "many", *times, "--output", output
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        process.wait(timeout=120)
    assert first
    assert err == ""
    assert process.returncode == 141


def test_fragments_timeline_prints_spans_and_gaps(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fragments --output timeline`` prints the range's summary, a bar, and each span and gap."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=64, gap_ms=4000)
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]
    status = main([*base, "fragments", "--stream-name", "cam", *TIMES, "--output", "timeline"])
    out, err = capsys.readouterr()
    assert status == 0, err
    summary, bar, *lines = out.splitlines()
    assert summary == (
        "2026-01-01 12:00:00.000Z to 2026-01-01 12:00:20.000Z (server timestamps): "
        "3 fragment(s) in 3 span(s) (6.000s stored), 3 gap(s) (14.000s missing)"
    )
    assert bar.startswith("|#") and "." in bar
    assert [" ".join(line.split()) for line in lines] == [
        "stored 2026-01-01 12:00:00.000Z 2026-01-01 12:00:02.000Z 2.000s 1 fragment(s)",
        "gap 2026-01-01 12:00:02.000Z 2026-01-01 12:00:06.000Z 4.000s",
        "stored 2026-01-01 12:00:06.000Z 2026-01-01 12:00:08.000Z 2.000s 1 fragment(s)",
        "gap 2026-01-01 12:00:08.000Z 2026-01-01 12:00:12.000Z 4.000s",
        "stored 2026-01-01 12:00:12.000Z 2026-01-01 12:00:14.000Z 2.000s 1 fragment(s)",
        "gap 2026-01-01 12:00:14.000Z 2026-01-01 12:00:20.000Z 6.000s",
    ]
