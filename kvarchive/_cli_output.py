"""What the command line prints and writes: tables, JSON and CSV, image and clip files."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import attrs

from kvarchive import DownloadResult, Fragment, Image, MediaStream
from kvarchive._files import atomic_file, output_folder

__all__ = [
    "FRAGMENT_FORMATS",
    "RESULT_FORMATS",
    "SavedImages",
    "download_line",
    "download_record",
    "fragment_record",
    "iso",
    "print_fragments",
    "print_result",
    "save_images",
    "save_media",
]

FRAGMENT_FORMATS = ("table", "json", "csv")
RESULT_FORMATS = ("text", "json")
FRAGMENT_FIELDS = ("number", "server_timestamp", "producer_timestamp", "duration_ms", "size")
_TABLE_HEADERS = ("FRAGMENT NUMBER", "SERVER TIMESTAMP", "PRODUCER TIMESTAMP", "DURATION", "SIZE")


def iso(value: datetime) -> str:
    """``value`` in UTC as ISO 8601 with milliseconds and a ``Z``."""
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


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


def fragment_record(fragment: Fragment) -> dict[str, Any]:
    """A fragment as plain values, keyed by :data:`FRAGMENT_FIELDS`."""
    return {
        "number": fragment.number,
        "server_timestamp": iso(fragment.server_timestamp),
        "producer_timestamp": iso(fragment.producer_timestamp),
        "duration_ms": fragment.duration // timedelta(milliseconds=1),
        "size": fragment.size,
    }


def print_fragments(fragments: Iterable[Fragment], output: str) -> None:
    """Print fragments as a table, a JSON list or CSV with a header."""
    records = [fragment_record(f) for f in fragments]
    if output == "json":
        print(json.dumps(records, indent=2))
    elif output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FRAGMENT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        rows = [_TABLE_HEADERS] + [
            (
                r["number"],
                r["server_timestamp"],
                r["producer_timestamp"],
                f"{r['duration_ms'] / 1000:.3f}s",
                str(r["size"]),
            )
            for r in records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADERS))]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths)]
            cells += [cell.rjust(width) for cell, width in zip(row[3:], widths[3:])]
            print("  ".join(cells).rstrip())


def save_media(media: MediaStream, path: str) -> int:
    """Copy ``media`` to ``path``, which appears only when whole; return its size."""
    with media, atomic_file(path) as out:
        shutil.copyfileobj(media, out, 1 << 20)
        return out.tell()


@attrs.frozen
class SavedImages:
    """The images written (with their paths) and those the service could not make."""

    written: list[tuple[Image, str]]
    failed: list[Image]

    def record(self, folder: str, instants: int) -> dict[str, Any]:
        """As plain values, with how many of ``instants`` had no media."""
        return {
            "folder": folder,
            "instants": instants,
            "images": [{"timestamp": iso(i.timestamp), "path": p} for i, p in self.written],
            "no_media": instants - len(self.written) - len(self.failed),
            "media_error": [iso(i.timestamp) for i in self.failed],
        }

    def summary(self, folder: str, instants: int) -> str:
        """One line: what was written, and how many instants gave no image."""
        line = f"{len(self.written)} image(s) written to {folder}"
        empty = instants - len(self.written) - len(self.failed)
        if empty:
            line += f"; {empty} of {instants} instant(s) had no media"
        if self.failed:
            line += f"; {len(self.failed)} could not be made (MEDIA_ERROR)"
        return line


def save_images(
    images: Iterable[Image],
    folder: str,
    image_format: str,
    advance: Callable[[Image], None] = lambda _: None,
) -> SavedImages:
    """Write each image to ``folder`` (made if missing) named by its timestamp."""
    output_folder(folder)
    suffix = ".png" if image_format == "PNG" else ".jpg"
    saved = SavedImages([], [])
    for image in images:
        advance(image)
        if image.data is None:
            if image.error != "NO_MEDIA":
                saved.failed.append(image)
            continue
        stamp = iso(image.timestamp).replace("-", "").replace(":", "")
        path = os.path.join(folder, stamp + suffix)
        with atomic_file(path) as out:
            out.write(image.data)
        saved.written.append((image, path))
    return saved
