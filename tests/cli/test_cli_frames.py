"""``kvarchive frames``: frames decoded locally, from a stream or a file, written as images."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from isolated import python_with_only
from pictures import (
    encode,
    ffmpeg_pictures,
    ffprobe_image,
    first_per_window,
    needs_ffmpeg,
    unaligned_gops,
)
from PIL import Image
from realdata import PRODUCER_SDK, SAMPLE

from kvarchive import MediaStream
from kvarchive.cli import main
from kvarchive.testing import Emulator

NAME = re.compile(r"\d{8}T\d{6}\.\d{3}Z(_track\d+)?\.(jpg|png)")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)``; return its status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def time_of(path: str) -> datetime:
    """The UTC time a frame's file is named by."""
    stem = Path(path).name.split(".")[0] + "." + Path(path).name.split(".")[1][:3]
    return datetime.strptime(stem, "%Y%m%dT%H%M%S.%f").replace(tzinfo=timezone.utc)


def images_in(folder: Path) -> list[str]:
    """The names of the finished images in ``folder`` (none if it is missing), sorted."""
    names = os.listdir(folder) if folder.is_dir() else []
    return sorted(name for name in names if NAME.fullmatch(name))


@pytest.fixture
def demo(emulator: Emulator) -> list[str]:
    """The emulator's sample stream "demo": the options (after the command) that reach it and
    name its 10 s."""
    stream = emulator.add_sample_stream("demo")
    start = stream.fragments[0].server_timestamp
    end = start + timedelta(seconds=10)
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]
    return [*base, "--stream-name", "demo", "--start", start.isoformat(), "--end", end.isoformat()]


# -- from a stream ----------------------------------------------------------------------


@needs_ffmpeg
def test_frames_of_a_stream_are_pngs_named_by_time_with_ffmpegs_pixels(
    capsys: pytest.CaptureFixture[str],
    demo: list[str],
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    """One PNG per second of the stream, in a folder made for it, named by UTC time (sorted in
    time order), each picture equal to ffmpeg's decode of the same frame."""
    folder = tmp_path / "missing" / "frames"
    argv = ["frames", *demo, "--every", "1s", "--format", "png", "-o", str(folder)]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    written = out.split()
    names = [Path(p).name for p in written]
    assert sorted(os.listdir(folder)) == names and len(names) in (10, 11)  # 10 s, maybe 11 s
    assert all(NAME.fullmatch(name) for name in names)
    times = [time_of(p) for p in written]
    assert times == sorted(times) and len({t.replace(microsecond=0) for t in times}) == len(times)
    summary = rf"{len(names)} frame\(s\) written to {re.escape(str(folder))} \(\d+ decoded\)\n"
    assert re.fullmatch(summary, err)
    # Each file is the picture ffmpeg decodes for the stream's frame of that time: the
    # stream is the sample, whose pictures come in the order of its frames' times.
    numbers = [fragment.number for fragment in emulator.stream("demo").fragments]
    with emulator.client() as kv:
        with kv.get_media_for_fragment_list(stream_name="demo", fragments=numbers) as media:
            listed = sorted(frame.utc_time for frame in media.iter_frames() if frame.track == 1)
    pictures = list(ffmpeg_pictures(SAMPLE))
    assert len(listed) == len(pictures) == 150
    for path, when in zip(written, times):
        with Image.open(path) as image:
            assert np.array_equal(np.asarray(image.convert("RGB")), pictures[listed.index(when)])
    assert ffprobe_image(Path(written[0])) == "png,320,240"


def test_frames_json_lists_each_file_with_its_time(
    capsys: pytest.CaptureFixture[str], demo: list[str], tmp_path: Path
) -> None:
    """--output json prints one record: the folder, each frame's time, track and path, and how
    many frames were decoded; JPEGs by default."""
    argv = ["frames", *demo, "--keyframes-only", "-o", str(tmp_path), "--output", "json"]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    record = json.loads(out)
    assert record["folder"] == str(tmp_path) and record["frames_decoded"] == 10
    assert [sorted(frame) for frame in record["frames"]] == [["path", "track", "utc_time"]] * 10
    for frame in record["frames"]:
        assert frame["track"] == 1 and frame["utc_time"].endswith("Z")
        assert time_of(frame["path"]) == datetime.fromisoformat(frame["utc_time"][:-1] + "+00:00")
        with Image.open(frame["path"]) as image:
            assert (image.format, image.size) == ("JPEG", (320, 240))
    assert err == f"10 frame(s) written to {tmp_path} (10 decoded)\n"


def test_an_empty_range_writes_nothing_and_succeeds(
    capsys: pytest.CaptureFixture[str], emulator: Emulator, tmp_path: Path
) -> None:
    """A range without fragments makes the folder, asks for no media, and says so and 0 frames."""
    emulator.add_sample_stream("demo")
    folder = tmp_path / "none"
    argv = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", "frames"]
    argv += ["--stream-name", "demo", "--start", "2001-01-01", "--end", "2001-01-02"]
    status, out, err = run(capsys, *argv, "-o", str(folder))
    assert (status, out) == (0, "")
    assert err == (
        "kvarchive: no fragments between 2001-01-01 00:00:00.000Z and 2001-01-02 00:00:00.000Z\n"
        f"0 frame(s) written to {folder} (0 decoded)\n"
    )
    assert folder.is_dir() and emulator.count("GetMediaForFragmentList") == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--file", "x.mkv", "--stream-name", "cam"], "not allowed with argument --file"),
        (["--file", "x.mkv", "--start", "-1m"], "--start and --end"),
        (["--stream-name", "cam", "--start", "-1m"], "need --start and --end"),
        ([], "--file"),
        (["--file", "x.mkv", "--every", "0s"], "not a length of time"),
        (["--file", "x.mkv", "--every", "1 s"], "not a length of time"),
        (["--file", "x.mkv", "--quality", "0"], "--quality must be 1..100: 0"),
        (["--file", "x.mkv", "--format", "gif"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    """A source, range, interval, quality or format that cannot be is a usage error (exit 2)."""
    status, out, err = run(capsys, "frames", *argv, "-o", str(tmp_path / "out"))
    assert status == 2 and out == ""
    assert message in err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


# -- from a file ------------------------------------------------------------------------


@needs_ffmpeg
def test_frames_of_a_local_file_need_no_aws_configuration(tmp_path: Path) -> None:
    """``frames --file`` on a producer SDK recording runs with no AWS configuration at all
    (env -i) and writes, as JPEGs, the frames iter_frames(decode=True, every=1s) gives."""
    folder = tmp_path / "out" / "frames"
    script = Path(sys.executable).with_name("kvarchive")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    argv = [str(script), "frames", "--file", str(PRODUCER_SDK), "--every", "1s", "-o", str(folder)]
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    with MediaStream.from_file(PRODUCER_SDK) as media:
        expected = [
            frame.utc_time for frame in media.iter_frames(decode=True, every=timedelta(seconds=1))
        ]
    written = result.stdout.split()
    assert [time_of(path) for path in written] == expected and len(expected) > 5
    assert sorted(os.listdir(folder)) == [Path(path).name for path in written]
    assert {ffprobe_image(Path(path)) for path in written} == {"mjpeg,640,480"}


@needs_ffmpeg
def test_every_keeps_the_first_frame_of_each_window_of_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``frames --every 1s`` on 2 s GOPs whose frames fall at .123 past the second writes the
    first frame of each second, as the rule gives it from iter_frames() times."""
    path = unaligned_gops(tmp_path / "unaligned.mkv")
    argv = ["frames", "--file", str(path), "--every", "1s", "-o", str(tmp_path / "out")]
    status, out, err = run(capsys, *argv, "--output", "json")
    assert status == 0, err
    written = [
        datetime.fromisoformat(frame["utc_time"][:-1] + "+00:00")
        for frame in json.loads(out)["frames"]
    ]
    with MediaStream.from_file(path) as media:
        frames = [frame for frame in media.iter_frames() if frame.track == 1]
    assert written == first_per_window(frames, timedelta(seconds=1)) and len(written) == 11


@needs_ffmpeg
def test_a_second_video_track_names_its_files_by_track(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file with two video tracks gives both tracks' frames; the second's files say _track2."""
    first = encode(tmp_path / "a.mkv", "testsrc=size=64x48:rate=5", "-t", "1")
    second = encode(tmp_path / "b.mkv", "testsrc2=size=32x24:rate=5", "-t", "1")
    both = tmp_path / "both.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(first), "-i", str(second), "-map", "0:v", "-map",
         "1:v", "-c", "copy", str(both)],
        check=True,
    )  # fmt: skip
    status, out, err = run(capsys, "frames", "--file", str(both), "-o", str(tmp_path / "out"))
    assert status == 0, err
    names = [Path(path).name for path in out.split()]
    assert len(names) == 10 and sorted(names) == sorted(os.listdir(tmp_path / "out"))
    second_track = [name for name in names if name.endswith("_track2.jpg")]
    assert len(second_track) == 5
    with Image.open(tmp_path / "out" / second_track[0]) as image:
        assert image.size == (32, 24)


def test_a_bar_is_drawn_on_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, frames draws a progress bar over the bytes read, to 100%."""
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

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = ["frames", "--file", str(SAMPLE), "--keyframes-only", "-o", str(tmp_path)]
    assert main(argv) == 0
    assert "frames" in terminal.text and "100%" in terminal.text


def test_without_pyav_numpy_and_pillow_it_says_what_to_install(tmp_path: Path) -> None:
    """Installed without the extras, frames exits 1 with one line naming kvarchive[decode] and
    kvarchive[images], before writing anything."""
    folder = tmp_path / "out"
    argv = ["-m", "kvarchive", "frames", "--file", str(SAMPLE), "-o", str(folder)]
    required = ["attr", "attrs", "botocore", "dateutil", "jmespath", "urllib3"]  # not boto3's s3
    result = python_with_only(tmp_path, required, *argv)
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("kvarchive: error: ")
    assert 'pip install "kvarchive[decode]"' in line and 'pip install "kvarchive[images]"' in line
    assert not folder.exists()


# -- Ctrl-C -----------------------------------------------------------------------------


def test_ctrl_c_exits_130_leaving_only_whole_images(emulator: Emulator, tmp_path: Path) -> None:
    """SIGINT while frames are written over a slow connection: exit 130, one line, and every
    file left in the folder is a whole image (no partial file)."""
    stream = emulator.add_sample_stream("demo")
    emulator.bandwidth(40_000)  # the 217 kB sample takes over 5 s
    start = stream.fragments[0].server_timestamp
    folder = tmp_path / "out"
    argv = [sys.executable, "-m", "kvarchive", "--endpoint-url", emulator.endpoint_url]
    argv += ["--region", "us-east-1", "frames", "--stream-name", "demo"]
    argv += ["--start", start.isoformat(), "--end", (start + timedelta(seconds=10)).isoformat()]
    argv += ["--format", "png", "-o", str(folder)]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    ) as child:
        try:
            deadline = time.monotonic() + 60
            while len(images_in(folder)) < 3:
                assert child.poll() is None, child.communicate()
                assert time.monotonic() < deadline, "no frame was written"
                time.sleep(0.01)
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=30)
        finally:
            child.kill()
    assert child.returncode == 130
    assert stderr == "kvarchive: interrupted\n"  # what the user asked for: not an error
    left = sorted(os.listdir(folder))
    assert left == images_in(folder) and 3 <= len(left) < 150  # no temporary file left
    for name in left:
        with Image.open(folder / name) as image:
            image.load()  # a cut file would fail here
