"""What an export wrote, read back as an independent reader would: fragments, frames, rows."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kvarchive import MediaStream
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)

Frames = list[tuple[int, bool, bytes]]


def two_streams(emulator: Emulator) -> list[str]:
    """Add "cam" (25 fragments of 2 s from T0: 3 shards of 20 s) and "door" (12 from T0 + 7 s:
    2 shards of 20 s); return their names."""
    emulator.add_stream("cam", fragment_count=25, start=T0, payload_size=2048)
    emulator.add_stream(
        "door", fragment_count=12, start=T0 + timedelta(seconds=7), payload_size=2048
    )
    return ["cam", "door"]


def recorded(path: Path) -> tuple[list[str], Frames]:
    """The fragment numbers a recording holds (its fragments' tags, in file order) and its frames
    as (track, keyframe, payload), in order."""
    with MediaStream.from_file(path) as media:
        documents = list(media.iter_fragments())
    numbers = [
        value
        for document in documents
        for name, value in document.tag_list
        if name == "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
    ]
    with MediaStream.from_file(path) as media:
        frames = [(f.track, f.keyframe, f.data) for f in media.iter_frames()]
    return numbers, frames


def rows(out_dir: Path) -> list[dict[str, Any]]:
    """The manifest's rows, in file order."""
    lines = (out_dir / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def files(out_dir: Path) -> dict[str, bytes]:
    """Every file under ``out_dir`` (relative path: bytes), hidden ones included."""
    return {
        str(path.relative_to(out_dir)): path.read_bytes()
        for path in sorted(out_dir.rglob("*"))
        if path.is_file()
    }


def sha256(path: Path) -> str:
    """A file's SHA-256, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
