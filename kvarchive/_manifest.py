"""The manifest of an export, ``manifest.jsonl``: one JSON object per shard.

A row holds ``stream``, ``file`` (relative to the export's folder, ``/``
between parts), ``fragments`` (their numbers, in order), ``first`` and
``last`` (ISO 8601 UTC), ``bytes`` and ``sha256``; a failed shard has an
``error`` and no file. Rows are appended as shards finish, so that a run cut
short still leaves what it finished to resume from; at the end the manifest
is written again, whole, in stream then time order. A row is also what a
re-run checks a file against before it skips its shard.

An S3 object cannot be appended to: a manifest under an S3 prefix is
written again whole (one PutObject) after a shard finishes, at most once
every few seconds, and when the run ends or stops. Its size is its rows', so
that costs little beside the shards, and a run cut short still leaves the
rows of the shards it finished, give or take the last few seconds'.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any, Optional

from ._destinations import S3Factory, is_s3, join, open_file, read_bytes, stored_digest
from ._files import PathLike
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
_S3_REWRITE_EVERY = 2.0  # seconds between two rewrites of a manifest in S3

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


def read_manifest(path: PathLike, s3: S3Factory) -> dict[str, Row]:
    """The rows of the shards a manifest lists as written, by file (none if it is missing).

    A line that is not a JSON object (a run stopped in the middle of writing
    it) is passed over.
    """
    rows: dict[str, Row] = {}
    for line in (read_bytes(path, s3) or b"").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("file"), str):
            rows[row["file"]] = row
    return rows


def already_done(
    shard: ExportShard, row: Optional[Row], folder: str, s3: S3Factory
) -> Optional[ShardResult]:
    """The shard's result if ``row`` shows it written by an earlier run and its file still matches.

    The row must list the same fragments, and the file must have its size
    and SHA-256 (an S3 object's checksum, read with HeadObject: no download).
    """
    if row is None or row.get("error") is not None or row.get("fragments") != shard.numbers:
        return None
    path = join(folder, shard.file)
    if stored_digest(path, s3) != (row.get("bytes"), row.get("sha256")):
        return None
    return ShardResult(
        shard, path=path, bytes_written=row["bytes"], sha256=row["sha256"], skipped=True, s3=s3
    )


class ManifestWriter:
    """The manifest of a run: started with the shards already done, added to as others finish."""

    def __init__(self, path: PathLike, done: Iterable[ShardResult], s3: S3Factory) -> None:
        self._path = path
        self._s3 = s3
        self._results = list(done)
        # Rows of earlier runs that this one does not confirm go now: their files are redone.
        self._rewrite()
        self._unwritten = False
        # Unbuffered: each row goes out in one write() call of its own, so that a run killed
        # in the middle of one leaves whole rows (a torn last line at worst, passed over).
        self._out = None if is_s3(path) else open(path, "ab", buffering=0)  # noqa: SIM115

    def add(self, result: ShardResult) -> None:
        """Append one finished (or failed) shard, at once, in case the run stops."""
        if self._out is None:
            self._results.append(result)
            self._unwritten = True
            if time.monotonic() - self._written_at >= _S3_REWRITE_EVERY:
                self._rewrite()
            return
        line = memoryview((json.dumps(shard_row(result)) + "\n").encode())
        while line:
            line = line[self._out.write(line) or 0 :]

    def close(self) -> None:
        """Stop appending (the rows so far stay, in the order they finished)."""
        if self._out is not None:
            self._out.close()
        elif self._unwritten:
            self._rewrite()

    def finish(self, results: Iterable[ShardResult]) -> None:
        """Write the manifest again, whole: ``results`` in stream then time order."""
        if self._out is not None:
            self._out.close()
        self._results = sorted(results, key=result_order)
        self._rewrite()

    def _rewrite(self) -> None:
        with open_file(self._path, self._s3) as out:
            for result in self._results:
                out.write((json.dumps(shard_row(result)) + "\n").encode())
        self._written_at = time.monotonic()
        self._unwritten = False


def result_order(result: ShardResult) -> tuple[str, Any, str]:
    """Stream, then time: the order of the manifest's rows and of an export's results."""
    return (result.shard.stream, result.shard.first, result.shard.file)
