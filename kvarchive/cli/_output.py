"""What the command line prints and writes: tables, JSON and CSV, images and clips."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from kvarchive import (
    AudioResult,
    DecodedFrame,
    DownloadResult,
    ExportResult,
    Fragment,
    Image,
    MediaStream,
)
from kvarchive._destinations import S3Factory, join, open_file
from kvarchive._times import compact_seconds, compact_time, iso
from kvarchive.cli._messages import in_own_times

__all__ = [
    "FRAGMENT_FORMATS",
    "FRAME_NAMES",
    "PROG",
    "RESULT_FORMATS",
    "FrameWriter",
    "ImageTally",
    "audio_line",
    "audio_record",
    "download_line",
    "download_record",
    "error",
    "export_lines",
    "export_record",
    "fragment_line",
    "fragment_record",
    "no_fragments",
    "print_fragments",
    "print_result",
    "save_fragment",
    "save_image",
    "save_media",
    "tell",
    "warn",
]

PROG = "kvarchive"
"""The command's name, in its usage and at the start of its error and warning lines."""
FRAGMENT_FORMATS = ("table", "json", "csv", "timeline")
RESULT_FORMATS = ("text", "json")
FRAGMENT_FIELDS = ("number", "server_timestamp", "producer_timestamp", "duration_ms", "size")
_EXPORT_COUNTS = ("shards", "fragments", "bytes", "skipped", "failed")
_TABLE_HEADERS = ("FRAGMENT NUMBER", "SERVER TIMESTAMP", "PRODUCER TIMESTAMP", "DURATION", "SIZE")
FRAME_NAMES = "YYYYMMDDTHHMMSS.fffZ.jpg (or .png) by each frame's UTC time"
"""How ``frames`` names its files, as ``images`` does: they sort in time order and hold no
colon."""


def print_result(output: str, record: Any, text: Iterable[str]) -> None:
    """Print a command's result: ``record`` as JSON, or the lines of ``text``."""
    if output == "json":
        print(json.dumps(record, indent=2))
        return
    for line in text:
        print(line)


def download_record(result: DownloadResult) -> dict[str, Any]:
    """A written file as plain values: path, fragment count, bytes."""
    return {
        "path": os.fspath(result.path),
        "fragment_count": result.fragment_count,
        "bytes_written": result.bytes_written,
    }


def download_line(result: DownloadResult) -> str:
    """A written file as one tab-separated line."""
    return f"{result.path}\t{result.fragment_count} fragments\t{result.bytes_written} bytes"


def audio_record(result: AudioResult) -> dict[str, Any]:
    """A written WAV file as plain values: path, tracks in channel order, format, length."""
    return {
        "path": os.fspath(result.path),
        "tracks": list(result.tracks),
        "sample_rate": result.sample_rate,
        "channels": result.channels,
        "duration_seconds": result.duration.total_seconds(),
        "fragment_count": result.fragment_count,
        "bytes_written": result.bytes_written,
    }


def audio_line(result: AudioResult) -> str:
    """A written WAV file as one tab-separated line."""
    tracks = ", ".join(map(str, result.tracks))
    seconds = f"{result.duration.total_seconds():g} s"
    return (
        f"{result.path}\t{tracks}\t{result.sample_rate} Hz\t{seconds}\t{result.bytes_written} bytes"
    )


def export_record(result: ExportResult) -> dict[str, Any]:
    """An export as plain values: the manifest, counts per stream, the shards that failed."""
    streams: dict[str, dict[str, int]] = {}
    for shard in result.shards:
        counts = streams.setdefault(shard.shard.stream, dict.fromkeys(_EXPORT_COUNTS, 0))
        counts["shards"] += 1
        counts["fragments"] += len(shard.shard.fragments)
        counts["bytes"] += shard.bytes_written
        counts["skipped"] += shard.skipped
        counts["failed"] += not shard.ok
    return {
        "manifest": result.manifest,
        "bytes_written": result.bytes_written,
        "streams": [{"stream": name, **counts} for name, counts in streams.items()],
        "failed": [{"file": r.shard.file, "error": r.error} for r in result.failed],
    }


def export_lines(result: ExportResult) -> list[str]:
    """An export as text: the manifest's path, then a table with a row per stream."""
    rows = [("STREAM", *(name.upper() for name in _EXPORT_COUNTS))]
    for record in export_record(result)["streams"]:
        rows.append((record["stream"], *(str(record[name]) for name in _EXPORT_COUNTS)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"manifest: {result.manifest}"]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
    return lines


def fragment_record(fragment: Fragment) -> dict[str, Any]:
    """A fragment as plain values, keyed by :data:`FRAGMENT_FIELDS`."""
    return {
        "number": fragment.number,
        "server_timestamp": iso(fragment.server_timestamp),
        "producer_timestamp": iso(fragment.producer_timestamp),
        "duration_ms": fragment.duration // timedelta(milliseconds=1),
        "size": fragment.size,
    }


def fragment_line(number: str, server: datetime, producer: datetime, *more: str) -> str:
    """A fragment as one tab-separated line: its number, server and producer times, ``more``."""
    return "\t".join([number, iso(server), iso(producer), *more])


def no_fragments(start: datetime, end: datetime) -> str:
    """What an empty range says, on stderr, beside its empty result."""
    return f"no fragments between {iso(start)} and {iso(end)}"


def print_fragments(fragments: Iterable[Fragment], output: str) -> int:
    """Print fragments as a table (times as :func:`compact_time`), a JSON list or CSV; return
    how many."""
    if output == "json":
        records = [fragment_record(f) for f in fragments]
        print(json.dumps(records, indent=2))
        return len(records)
    if output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FRAGMENT_FIELDS, lineterminator="\n")
        writer.writeheader()
        count = 0
        for fragment in fragments:
            writer.writerow(fragment_record(fragment))
            count += 1
        return count
    rows = [_TABLE_HEADERS] + [
        (
            f.number,
            compact_time(f.server_timestamp),
            compact_time(f.producer_timestamp),
            compact_seconds(f.duration),
            str(f.size),
        )
        for f in fragments
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADERS))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths)]
        cells += [cell.rjust(width) for cell, width in zip(row[3:], widths[3:])]
        print("  ".join(cells).rstrip())
    return len(rows) - 1


def save_media(media: MediaStream, path: str, s3: S3Factory) -> int:
    """Copy ``media`` to ``path`` (or S3), which appears only when whole; return its size."""
    with media, open_file(path, s3) as out:
        shutil.copyfileobj(media, out, 1 << 20)
        return out.tell()


@attrs.define
class ImageTally:
    """What an ``images`` run wrote, counted as it goes (paths kept only for a JSON result)."""

    folder: str
    instants: int
    keep_paths: bool
    written: int = 0
    paths: list[dict[str, str]] = attrs.field(factory=list)
    failed: list[str] = attrs.field(factory=list)

    def add(self, image: Image, path: str) -> None:
        """Count an image written to ``path``."""
        self.written += 1
        if self.keep_paths:
            self.paths.append({"timestamp": iso(image.timestamp), "path": path})

    def fail(self, image: Image) -> None:
        """Count an instant without an image: MEDIA_ERROR is listed, NO_MEDIA only counted."""
        if image.error != "NO_MEDIA":
            self.failed.append(iso(image.timestamp))

    @property
    def empty(self) -> int:
        """How many instants had no media."""
        return self.instants - self.written - len(self.failed)

    def record(self) -> dict[str, Any]:
        """The result as plain values."""
        return {
            "folder": self.folder,
            "instants": self.instants,
            "images": self.paths,
            "no_media": self.empty,
            "media_error": self.failed,
        }

    def summary(self) -> str:
        """One line: what was written, and how many instants gave no image."""
        line = f"{self.written} image(s) written to {self.folder}"
        if self.empty:
            line += f"; {self.empty} of {self.instants} instant(s) had no media"
        if self.failed:
            line += f"; {len(self.failed)} could not be made (MEDIA_ERROR)"
        return line


def _file_stamp(iso_time: str) -> str:
    """An ISO 8601 time as a file name: ``20260131T120000.250Z``, sorting in time order."""
    return iso_time.replace("-", "").replace(":", "")


def _image_suffix(image_format: str) -> str:
    """``.png`` or ``.jpg``."""
    return ".png" if image_format == "PNG" else ".jpg"


def save_image(
    timestamp: datetime, data: bytes, folder: str, image_format: str, s3: S3Factory
) -> str:
    """Write an image into ``folder`` (or an S3 prefix), named by its timestamp; return the path."""
    path = join(folder, _file_stamp(iso(timestamp)) + _image_suffix(image_format))
    with open_file(path, s3) as out:
        out.write(data)
    return path


def save_fragment(data: bytes, number: str, timestamp: datetime, folder: str, s3: S3Factory) -> str:
    """Write one fragment's MKV document into ``folder`` (or S3), named by its time and number."""
    path = join(folder, f"{_file_stamp(iso(timestamp))}-{number}.mkv")
    with open_file(path, s3) as out:
        out.write(data)
    return path


@attrs.define
class FrameWriter:
    """Writes decoded frames into a folder, named by time, and counts them (paths kept for JSON).

    A frame's name is its UTC time to the millisecond (:data:`FRAME_NAMES`); a
    frame of another track than track 1 (the video of KVS producers) adds
    ``_trackN``, so that two video tracks never share a name.
    """

    folder: str
    image_format: str  # JPEG or PNG
    quality: int
    keep_paths: bool
    s3: S3Factory
    written: int = 0
    frames_decoded: int = 0
    paths: list[dict[str, Any]] = attrs.field(factory=list)

    def write(self, frame: DecodedFrame) -> str:
        """Save ``frame`` (whole or not at all); return its path."""
        stamp = iso(frame.utc_time)
        name = _file_stamp(stamp)
        if frame.track != 1:
            name += f"_track{frame.track}"
        path = join(self.folder, name + _image_suffix(self.image_format))
        options = {"quality": self.quality} if self.image_format == "JPEG" else {}
        with open_file(path, self.s3) as out:
            frame.save(out, format=self.image_format, **options)
        self.written += 1
        if self.keep_paths:
            self.paths.append({"utc_time": stamp, "track": frame.track, "path": path})
        return path

    def record(self) -> dict[str, Any]:
        """The result as plain values."""
        return {"folder": self.folder, "frames": self.paths, "frames_decoded": self.frames_decoded}

    def summary(self) -> str:
        """One line: how many frames were written, and how many decoded for them."""
        return f"{self.written} frame(s) written to {self.folder} ({self.frames_decoded} decoded)"


def error(message: str) -> None:
    """Tell an error on one line of stderr."""
    tell(f"error: {' '.join(message.split())}")


def warn(message: str) -> None:
    """Tell a warning on stderr."""
    tell(f"warning: {message}")


def tell(message: str) -> None:
    """Tell the user something on stderr, after the command's name, times as tables give them."""
    print(f"{PROG}: {in_own_times(message)}", file=sys.stderr)
