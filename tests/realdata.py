"""The real recordings in tests/data/realdata/ and what ffprobe and mkvinfo say about them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
"""The project's root folder."""
REALDATA = ROOT / "tests" / "data" / "realdata"
SAMPLE = ROOT / "kvarchive" / "testing" / "data" / "sample.mkv"
"""The real sample bundled with the emulator (made by tests/make_sample.py)."""
GET_MEDIA = REALDATA / "output_get_media.mkv"
PRODUCER_SDK = REALDATA / "test-stream-1_0.mkv"
CLUSTERS = REALDATA / "clusters.mkv"
GET_MEDIA_NUMBERS = [
    "91343852333181432392682062607743920146159169392",
    "91343852333181432397633822764885441725874549018",
    "91343852333181432402585582922026963247510532162",
    "91343852333181432407537343079168484595829378270",
    "91343852333181432412489103236310005892133364608",
]

REAL_FILES = [GET_MEDIA, PRODUCER_SDK, CLUSTERS]

needs_mkvinfo = pytest.mark.skipif(shutil.which("mkvinfo") is None, reason="mkvinfo not installed")
needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def ffprobe_packets(path: Path) -> list[tuple[int, int, bool]]:
    """Every packet of a file as ffprobe demuxes it: (time in ns, size, keyframe), in file order."""
    entries = "stream=index,time_base:packet=stream_index,pts,size,flags"
    command = ["ffprobe", "-v", "quiet", "-show_entries", entries, "-of", "json", str(path)]
    answer = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(answer.stdout)
    bases = {s["index"]: Fraction(s["time_base"]) for s in report["streams"]}
    return [
        (
            int(p["pts"] * bases[p["stream_index"]] * 10**9),
            int(p["size"]),
            p["flags"].startswith("K"),
        )
        for p in report["packets"]
    ]


def mkvinfo_tags(path: Path) -> list[tuple[str, str]]:
    """Every SimpleTag of a file as (name, value), in the order mkvinfo lists them."""
    report = subprocess.run(
        ["mkvinfo", "-v", str(path)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    tags: list[tuple[str, str]] = []
    name = None
    for line in report.splitlines():
        if line.endswith("+ Simple"):
            name = None
        elif (found := re.search(r"\+ Name: (.*)$", line)) and name is None:
            name = found.group(1)
        elif (found := re.search(r"\+ String(?:: (.*))?$", line)) and name is not None:
            tags.append((name, found.group(1) or ""))
            name = None
    return tags
