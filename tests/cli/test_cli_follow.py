"""``kvarchive follow``: lines or MKV files per fragment, checkpoints, --until, and Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from follow_checks import assert_followed, listing_deadline

from kvarchive.cli import main
from kvarchive.testing import Emulator

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def follow_args(emu: Emulator, *extra: str) -> list[str]:
    return ["follow", "--endpoint-url", emu.endpoint_url, "--region", emu.region, *extra]


def printed_numbers(text: str) -> list[str]:
    return [line.split("\t")[0] for line in text.splitlines() if line]


def test_one_line_per_fragment_with_number_times_and_size(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each fragment is one tab-separated line: number, server and producer time, duration, size."""
    stream = emulator.add_stream("cam", fragment_count=4, payload_size=100)
    first, last = stream.fragments[0], stream.fragments[-1]
    args = ["--stream-name", "cam", "--start", iso(first.server_timestamp)]
    args += ["--until", iso(last.server_timestamp + timedelta(milliseconds=1)), "--settle", "0"]
    assert main(follow_args(emulator, *args)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t") for line in lines] == [
        [f.number, iso(f.server_timestamp), iso(f.producer_timestamp), "2.000s", str(f.size)]
        for f in stream.fragments
    ]


def test_outfile_writes_one_mkv_per_fragment_into_a_new_folder(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o DIR (created if missing) gets each fragment's own MKV bytes; each line names its file."""
    stream = emulator.add_stream("cam", fragment_count=3, payload_size=300)
    out = tmp_path / "new" / "folder"
    first, last = stream.fragments[0], stream.fragments[-1]
    args = ["--stream-name", "cam", "--start", iso(first.server_timestamp), "-o", str(out)]
    args += ["--until", iso(last.server_timestamp + timedelta(milliseconds=1)), "--settle", "0"]
    assert main(follow_args(emulator, *args)) == 0
    paths = [line.split("\t")[-1] for line in capsys.readouterr().out.splitlines()]
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in paths)
    for path, fragment in zip(paths, stream.fragments):
        assert fragment.number in path
        assert Path(path).read_bytes() == fragment.data()


@needs_ffprobe
def test_each_written_mkv_opens_in_ffprobe(emulator: Emulator, tmp_path: Path) -> None:
    """ffprobe reads every file follow -o writes from the real sample stream as H.264 video."""
    stream = emulator.add_sample_stream("cam")
    first, last = stream.fragments[0], stream.fragments[2]
    args = ["--stream-name", "cam", "--start", iso(first.server_timestamp), "-o", str(tmp_path)]
    args += ["--until", iso(last.server_timestamp + timedelta(milliseconds=1)), "--settle", "0"]
    assert main(follow_args(emulator, *args)) == 0
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3
    for path in files:
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        codecs = {s["codec_name"] for s in json.loads(probe.stdout)["streams"]}
        assert "h264" in codecs


def test_a_checkpoint_file_makes_the_second_run_go_on(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs with one --checkpoint print every fragment once between them."""
    stream = emulator.add_stream("cam", fragment_count=6, payload_size=64)
    f = stream.fragments
    checkpoint = str(tmp_path / "state" / "cam.json")
    common = ["--stream-name", "cam", "--checkpoint", checkpoint, "--settle", "0"]
    common += ["--start", iso(f[0].server_timestamp)]
    assert main(follow_args(emulator, *common, "--until", iso(f[3].server_timestamp))) == 0
    assert main(follow_args(emulator, *common, "--until", iso(f[5].server_timestamp))) == 0
    assert printed_numbers(capsys.readouterr().out) == [x.number for x in f[:5]]


def test_until_takes_a_duration_from_now(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """--until 1s on a quiet stream ends by itself about settle after that."""
    emulator.add_stream("quiet", fragment_count=0)
    began = time.monotonic()
    args = ["--stream-name", "quiet", "--until", "1s", "--settle", "0.2", "--poll", "0.2"]
    assert main(follow_args(emulator, *args)) == 0
    assert 1.2 - 0.05 <= time.monotonic() - began < 1.2 + 0.6
    assert capsys.readouterr().out == ""


def test_bad_follow_options_exit_2(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """A negative settle or an unreadable --until is a usage error, before any request."""
    assert main(follow_args(emulator, "--stream-name", "cam", "--settle", "-1")) == 2
    assert main(follow_args(emulator, "--stream-name", "cam", "--until", "later")) == 2
    assert "settle" in capsys.readouterr().err
    assert emulator.requests == []


def _lines(stream: Any) -> tuple[queue.Queue[str], threading.Thread]:
    """The lines a child writes, gathered by a thread (join it at EOF) so that reads can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def test_ctrl_c_stops_cleanly_with_the_checkpoint_saved(emulator: Emulator, tmp_path: Path) -> None:
    """SIGINT ends a live follow with status 130 at a fragment boundary; a restart goes on from there."""
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    producer = emulator.start_producing("cam", visibility_delay=(0.0, 0.2))
    checkpoint = tmp_path / "cam.json"
    start = datetime.now(timezone.utc).replace(microsecond=0)  # exactly as --start passes it
    command = [sys.executable, "-m", "kvarchive", *follow_args(emulator, "--stream-name", "cam")]
    command += ["--start", iso(start), "--checkpoint", str(checkpoint), "--poll", "0.2"]
    command += ["--settle", "0.8"]
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(command, **pipes) as child:
        lines, pump = _lines(child.stdout)
        first = [lines.get(timeout=10) for _ in range(5)]
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=5) == 130
        pump.join(timeout=5)
        assert child.stderr is not None
        assert f"at a fragment boundary; checkpoint saved in {checkpoint}" in child.stderr.read()
    first += [lines.get_nowait() for _ in range(lines.qsize())]
    saved = json.loads(checkpoint.read_text())
    assert saved["last"]["number"] == printed_numbers("".join(first))[-1]

    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    again = subprocess.run(
        [*command, "--until", iso(until)], capture_output=True, text=True, timeout=20, check=True
    )
    producer.stop()
    both = printed_numbers("".join(first)) + printed_numbers(again.stdout)
    fragments = emulator.stream("cam").fragments
    last_poll = listing_deadline(until, settle=0.8, poll=0.2)
    assert_followed(
        both, fragments, start=start, until=until, producer=producer, listed_by=last_poll
    )


def test_a_second_ctrl_c_still_says_where_the_checkpoint_is(
    emulator: Emulator, tmp_path: Path
) -> None:
    """SIGINT twice while the first media is still coming: exit 130 at once, nothing printed,
    and the one line says "interrupted" (no "error:") and where the checkpoint was saved."""
    stream = emulator.add_stream("cam", fragment_count=6, payload_size=64 * 1024)
    emulator.bandwidth(20_000)  # the first batch of media takes about 20 s
    checkpoint = tmp_path / "cam.json"
    start = iso(stream.fragments[0].server_timestamp)
    command = [sys.executable, "-m", "kvarchive", *follow_args(emulator, "--stream-name", "cam")]
    command += ["--start", start, "--checkpoint", str(checkpoint), "-o", str(tmp_path / "out")]
    command += ["--settle", "0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        deadline = time.monotonic() + 30
        while emulator.count("GetMediaForFragmentList") == 0:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)  # asks to stop once the media in hand is done
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)  # stops at once
        out, told = child.communicate(timeout=5)
    assert (child.returncode, out) == (130, "")
    assert told == f"kvarchive: interrupted; checkpoint saved in {checkpoint}\n"
    assert json.loads(checkpoint.read_text())["last"] is None  # nothing was delivered
