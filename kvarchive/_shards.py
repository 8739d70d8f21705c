"""An export cut into shards: runs of consecutive fragments, each written as one MKV file.

A shard is a plain, picklable value (its stream, its listed fragments, its
time span and the file it becomes), so that it can be handed to any worker
that has a client; :meth:`ExportShard.run` writes it there. Shards are cut on
a grid of the shard length counted from the epoch, so the same range cut
again gives the same shards and files, which is what lets a re-run skip the
ones already done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Optional

import attrs

from ._destinations import check_folder, join, stored_digest
from ._errors import ValidationError
from ._files import PathLike
from ._links import S3Linked
from ._models import Fragment
from ._stop_signal import StopSignal
from ._times import from_epoch_ms, to_epoch_ms
from ._types import StreamRef
from ._validate import stream_key

if TYPE_CHECKING:
    from ._client import ArchivedMediaClient

__all__ = ["ExportShard", "ShardResult", "check_shard", "plan_shards"]

_SHORTEST = timedelta(seconds=1)


def _count(fragments: Sequence[Fragment]) -> str:
    return f"<{len(fragments)} fragments>"


@attrs.frozen
class ExportShard:
    """A run of consecutive fragments of one stream, written as one MKV file by :meth:`run`.

    ``stream`` is the stream's name (``stream_arn`` is set when it was named
    by ARN, and requests use it); ``first`` and ``last`` are the selected
    timestamps of its first and last fragments; ``file`` is where it goes,
    relative to the export's folder, ``<stream>/<start of its grid cell>.mkv``.
    """

    stream: str
    fragments: tuple[Fragment, ...] = attrs.field(repr=_count)
    first: datetime
    last: datetime
    file: str
    timestamp_type: str = "SERVER_TIMESTAMP"
    stream_arn: Optional[str] = None

    @property
    def numbers(self) -> list[str]:
        """The fragment numbers, in order."""
        return [f.number for f in self.fragments]

    @property
    def size(self) -> int:
        """The fragments' bytes, as ListFragments counts them."""
        return sum(f.size for f in self.fragments)

    def run(self, kv: ArchivedMediaClient, out_dir: PathLike) -> ShardResult:
        """Write this shard as one playable MKV file under ``out_dir``; return what was written.

        Calls GetMediaForFragmentList (one request per 1000 fragments, resumed
        if a connection drops). The file is written under a temporary name and
        renamed when whole, so a failure never leaves a partial file. ``out_dir``
        may be an S3 prefix (``s3://bucket/prefix``): the object is uploaded as
        it is fetched, and its ``sha256`` is then S3's checksum of it.
        """
        return self._run(kv, out_dir, None)

    def _run(
        self, kv: ArchivedMediaClient, out_dir: PathLike, stop: Optional[StopSignal]
    ) -> ShardResult:
        """:meth:`run`, given up at once (no file, no new request) when ``stop`` is set."""
        path = join(check_folder(out_dir, kv._s3), self.file)
        stream: StreamRef = (
            ("StreamARN", self.stream_arn) if self.stream_arn else ("StreamName", self.stream)
        )
        written = kv._save_recording(stream, self.fragments, path, stop=stop)
        stored = stored_digest(path, kv._s3)
        return ShardResult(
            shard=self,
            path=path,
            bytes_written=written.bytes_written,
            sha256=stored[1] if stored else None,
            s3=kv._s3,
        )


@attrs.frozen
class ShardResult(S3Linked):
    """What became of one shard: its file, size and SHA-256, or the error that stopped it.

    ``skipped`` means an earlier run had written it whole (nothing was
    requested); ``attempts`` counts the runs it took (an export retries a
    failed shard once).
    """

    shard: ExportShard
    path: Optional[str] = None
    bytes_written: int = 0
    sha256: Optional[str] = None
    error: Optional[str] = None
    skipped: bool = False
    attempts: int = 1
    _s3: Any = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    @property
    def ok(self) -> bool:
        """Whether the shard's file is written whole."""
        return self.error is None


def check_shard(value: Any) -> timedelta:
    """A shard length: a timedelta or seconds, at least one second."""
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise ValidationError("shard must be a timedelta or a number of seconds")
    length = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if length < _SHORTEST:
        raise ValidationError(f"shard must be at least {_SHORTEST}: {length}")
    return length


def plan_shards(
    stream: StreamRef,
    fragments: Sequence[Fragment],
    length: timedelta,
    timestamp_type: str,
) -> list[ExportShard]:
    """Cut time-ordered ``fragments`` into shards, one per cell of a ``length`` grid.

    Cells are counted from the epoch on the selected timestamp; cells without
    fragments give no shard.
    """
    cell_ms = length // timedelta(milliseconds=1)
    name = stream_key(stream)
    arn = stream[1] if stream[0] == "StreamARN" else None
    shards: list[ExportShard] = []
    group: list[Fragment] = []
    cell = 0
    seen: set[str] = set()
    for fragment in fragments:
        # A listing that changes while it is paged may repeat a fragment: keep it once.
        if fragment.number in seen:
            continue
        seen.add(fragment.number)
        here = to_epoch_ms(_timestamp(fragment, timestamp_type)) // cell_ms
        if group and here != cell:
            shards.append(_shard(name, arn, group, cell_ms * cell, timestamp_type))
            group = []
        cell = here
        group.append(fragment)
    if group:
        shards.append(_shard(name, arn, group, cell_ms * cell, timestamp_type))
    return shards


def _shard(
    name: str, arn: Optional[str], group: list[Fragment], start_ms: int, timestamp_type: str
) -> ExportShard:
    return ExportShard(
        stream=name,
        fragments=tuple(group),
        first=_timestamp(group[0], timestamp_type),
        last=_timestamp(group[-1], timestamp_type),
        file=f"{_folder(name)}/{_stamp(from_epoch_ms(start_ms))}.mkv",
        timestamp_type=timestamp_type,
        stream_arn=arn,
    )


def _timestamp(fragment: Fragment, timestamp_type: str) -> datetime:
    if timestamp_type == "PRODUCER_TIMESTAMP":
        return fragment.producer_timestamp
    return fragment.server_timestamp


def _stamp(moment: datetime) -> str:
    """A UTC time as a file name: ``20260131T120000Z`` (with ``.250`` if it has milliseconds)."""
    text = moment.strftime("%Y%m%dT%H%M%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def _folder(name: str) -> str:
    """The stream's folder: its name, but never ``.`` or ``..`` (which stream names allow)."""
    return name if name.strip(".") else name.replace(".", "%2E")
