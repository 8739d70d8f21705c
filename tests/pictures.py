"""The independent side of the decoding tests: ffmpeg and ffprobe, and pictures compared.

The reference is the ``ffmpeg`` command (Debian's build, not PyAV's bundled
FFmpeg) reading the same file with its own Matroska demuxer:
``ffmpeg -i FILE -f rawvideo -pix_fmt rgb24 -``, frame by frame.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from kvarchive import DecodedFrame
from kvarchive._matroska.frames import Frame

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg and ffprobe make and check the media here",
)


class Probe(NamedTuple):
    codec: str
    width: int
    height: int
    frames: int


def probe(path: Path) -> Probe:
    """ffprobe's codec, size and frame count (``-count_frames``) of the first video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-count_frames", "-of", "csv=p=0",
         "-show_entries", "stream=codec_name,width,height,nb_read_frames", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    codec, width, height, frames = out.split(",")
    return Probe(codec, int(width), int(height), int(frames))


def ffmpeg_pictures(path: Path) -> Iterator[np.ndarray]:
    """Every picture of the first video stream as ffmpeg decodes it: RGB, one at a time."""
    info = probe(path)
    size = info.width * info.height * 3
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0",
               "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as ffmpeg:
        assert ffmpeg.stdout is not None
        while picture := ffmpeg.stdout.read(size):
            yield np.frombuffer(picture, np.uint8).reshape(info.height, info.width, 3)


def ffprobe_image(path: Path) -> str:
    """``codec,width,height`` of the picture in an image file, as ffprobe reads it."""
    return subprocess.run(
        ["ffprobe", "-v", "error", "-of", "csv=p=0",
         "-show_entries", "stream=codec_name,width,height", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def assert_same_pictures(decoded: Iterable[DecodedFrame], reference: Iterable[np.ndarray]) -> int:
    """Each decoded image equals the reference's picture in turn, and the counts agree."""
    count = 0
    references = iter(reference)
    for frame in decoded:
        expected = next(references, None)
        assert expected is not None, f"more frames than the reference ({count})"
        assert frame.image.dtype == np.uint8 and frame.image.shape == expected.shape
        assert np.array_equal(frame.image, expected), f"frame {count} differs"
        count += 1
    assert next(references, None) is None, f"fewer frames than the reference ({count})"
    return count


def encode(out: Path, source: str, *options: str) -> Path:
    """Make a recording with ffmpeg from a lavfi ``source``."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, *options, str(out)],
        check=True,
    )
    return out


def unaligned_gops(out: Path) -> Path:
    """10 s of 320x240 H.264 at 25 fps in 2 s GOPs (two B-frames), its frames 0.123 s past each
    whole second: windows of a second begin inside GOPs, some near a GOP's end."""
    return encode(
        out, "testsrc2=size=320x240:rate=25", "-t", "10", "-c:v", "libx264", "-preset",
        "veryfast", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
        "-bf", "2", "-output_ts_offset", "0.123",
    )  # fmt: skip


def first_per_window(frames: Sequence[Frame], every: timedelta) -> list[datetime]:
    """The every= rule from the frames' times alone: in each window ``[k*every, (k+1)*every)``
    of UTC time from the epoch, the earliest frame (from the first keyframe on)."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    first_key = next(i for i, frame in enumerate(frames) if frame.keyframe)
    earliest: dict[int, datetime] = {}
    for frame in frames[first_key:]:
        window = (frame.utc_time - epoch) // every
        earliest[window] = min(earliest.get(window, frame.utc_time), frame.utc_time)
    return [earliest[window] for window in sorted(earliest)]


def needed_frames(frames: Sequence[Frame], kept: set[datetime]) -> int:
    """How many frames a decoder must see for the kept ones: each from its keyframe on."""
    needed: set[int] = set()
    for index, frame in enumerate(frames):
        if frame.utc_time in kept:
            start = max(i for i in range(index + 1) if frames[i].keyframe)
            needed.update(range(start, index + 1))
    return len(needed)


def digests(frames: Iterable[DecodedFrame]) -> dict[datetime, str]:
    """Each frame's time and the SHA-256 of its picture."""
    return {f.utc_time: hashlib.sha256(f.image.tobytes()).hexdigest() for f in frames}
