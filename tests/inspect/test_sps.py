"""The frame rate an H.264 SPS declares, read as FFmpeg's own SPS parser reads it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from kvarchive._inspect.sps import avc_frame_rate
from kvarchive._matroska.frames import iter_media_items

REALDATA = Path("/work/shared/realdata")
FILES = sorted(REALDATA.glob("*.mkv")) if REALDATA.is_dir() else []


def ffmpeg_rate(path: Path) -> Optional[float]:
    """time_scale / (2 * num_units_in_tick) of the first SPS, as FFmpeg's trace_headers shows."""
    trace = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "trace",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-c",
            "copy",
            "-bsf:v",
            "trace_headers",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stderr
    fields = dict(
        re.findall(
            r"\] \d+\s+(timing_info_present_flag|num_units_in_tick|time_scale)\s+\S+ = (\d+)", trace
        )
    )
    if fields.get("timing_info_present_flag") != "1":
        return None
    return int(fields["time_scale"]) / (2 * int(fields["num_units_in_tick"]))


@pytest.mark.skipif(not FILES or shutil.which("ffmpeg") is None, reason="needs realdata and ffmpeg")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_rate_is_the_one_ffmpeg_reads_from_the_sps(path: Path) -> None:
    """Each real recording's avcC gives FFmpeg's VUI rate, or None where its SPS has no timing."""
    tracks = next(
        item for item in iter_media_items(path.read_bytes()) if isinstance(item, tuple) and item
    )
    assert avc_frame_rate(tracks[0].codec_private) == ffmpeg_rate(path)


def test_a_truncated_record_has_no_rate() -> None:
    """An avcC cut inside its SPS gives None, not an error."""
    assert avc_frame_rate(bytes.fromhex("0142c00cffe100186742c00cd9")) is None
