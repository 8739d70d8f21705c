"""The manifest of an export, ``manifest.jsonl``: one JSON object per shard.

A row holds ``stream``, ``file`` (relative to the export's folder, ``/``
between parts), ``fragments`` (their numbers, in order), ``first`` and
``last`` (ISO 8601 UTC), ``bytes`` and ``sha256``; a failed shard has an
``error`` and no file. Rows are appended as shards finish, so that a run cut
short still leaves what it finished to resume from; at the end the manifest
is written again, whole, in stream then time order. A row is also what a
re-run checks a file against before it skips its shard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Optional

from ._files import PathLike, atomic_file, file_sha256
from ._shards import ExportShard, ShardResult
from ._times import iso

__all__ = [
    "MANIFEST_NAME",
    "ManifestWriter",
    "already_done",
    "read_manifest",
    "result_order",
    "shard_row",
]

MANIFEST_NAME = "manifest.jsonl"

Row = dict[str, Any]


def shard_row(result: ShardResult) -> Row:
    """A shard's line of the manifest."""
    shard = result.shard
    row: Row = {
        "stream": shard.stream,
        "file": shard.file if result.ok else None,
        "fragments": shard.numbers,
        "first": iso(shard.first),
        "last": iso(shard.last),
        "bytes": result.bytes_written if result.ok else None,
        "sha256": result.sha256 if result.ok else None,
    }
    if not result.ok:
        row["error"] = result.error
    return row


def read_manifest(path: PathLike) -> dict[str, Row]:
    """The rows of the shards a manifest lists as written, by file (none if it is missing).

    A line that is not a JSON object (a run stopped in the middle of writing
    it) is passed over.
    """
    rows: dict[str, Row] = {}
    try:
        with open(path, encoding="utf-8") as manifest:
            for line in manifest:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("file"), str):
                    rows[row["file"]] = row
    except FileNotFoundError:
        pass
    return rows


def already_done(shard: ExportShard, row: Optional[Row], folder: str) -> Optional[ShardResult]:
    """The shard's result if ``row`` shows it written by an earlier run and its file still matches.

    The row must list the same fragments, and the file must have its size
    and SHA-256.
    """
    if row is None or row.get("error") is not None or row.get("fragments") != shard.numbers:
        return None
    path = os.path.join(folder, *shard.file.split("/"))
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if size != row.get("bytes") or file_sha256(path) != row.get("sha256"):
        return None
    return ShardResult(shard, path=path, bytes_written=size, sha256=row["sha256"], skipped=True)


class ManifestWriter:
    """The manifest of a run: started with the shards already done, added to as others finish."""

    def __init__(self, path: PathLike, done: Iterable[ShardResult]) -> None:
        self._path = path
        # Rows of earlier runs that this one does not confirm go now: their files are redone.
        _write_rows(path, done)
        # Unbuffered: each row goes out in one write() call of its own, so that a run killed
        # in the middle of one leaves whole rows (a torn last line at worst, passed over).
        self._out = open(path, "ab", buffering=0)  # noqa: SIM115 - closed in finish

    def add(self, result: ShardResult) -> None:
        """Append one finished (or failed) shard, at once, in case the run stops."""
        line = memoryview((json.dumps(shard_row(result)) + "\n").encode())
        while line:
            line = line[self._out.write(line) or 0 :]

    def close(self) -> None:
        """Stop appending (the rows so far stay, in the order they finished)."""
        self._out.close()

    def finish(self, results: Iterable[ShardResult]) -> None:
        """Write the manifest again, whole: ``results`` in stream then time order."""
        self.close()
        _write_rows(self._path, sorted(results, key=result_order))


def result_order(result: ShardResult) -> tuple[str, Any, str]:
    """Stream, then time: the order of the manifest's rows and of an export's results."""
    return (result.shard.stream, result.shard.first, result.shard.file)


def _write_rows(path: PathLike, results: Iterable[ShardResult]) -> None:
    with atomic_file(path) as out:
        for result in results:
            out.write((json.dumps(shard_row(result)) + "\n").encode())
