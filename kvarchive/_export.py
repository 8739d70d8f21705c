"""``kvarchive.export``: many streams over a long range, one MKV file per shard, on any executor.

The job in steps: plan every stream (one listing each, in parallel), check
which shards an earlier run into the same folder already wrote (their file's
size and SHA-256 against the manifest), run the others on the executor
(``_dispatch``), and keep the manifest as they finish (``_manifest``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Union

import attrs

from ._aws.throttle import SERVICE_RATES
from ._destinations import S3Factory, check_folder, join
from ._errors import ValidationError
from ._files import PathLike
from ._manifest import MANIFEST_NAME, ManifestWriter, already_done, read_manifest, result_order
from ._params import check_timestamp_type
from ._progress import progress_bar
from ._shards import ExportShard, ShardResult, check_shard
from ._types import StreamRef, TimeLike
from ._validate import check_range, check_stream, stream_key

if TYPE_CHECKING:
    from ._client import ArchivedMediaClient

__all__ = ["ExportResult", "export"]

# Shards of one stream in flight, and handed out per second: a shard's requests
# are GetMediaForFragmentList calls, 5 per second per stream.
PER_STREAM = int(SERVICE_RATES["GetMediaForFragmentList"])
_MAX_THREADS = 32
_PLANNERS = 8  # streams listed at once (each within its own per-stream rate)
_CHECKERS = 4  # files checksummed at once when resuming


@attrs.frozen
class ExportResult:
    """What ``export()`` did: the manifest's path, every shard's result, the bytes written.

    ``shards`` are in stream then time order, as the manifest's rows;
    ``bytes_written`` counts this run's files (not those skipped).
    """

    manifest: str
    shards: list[ShardResult]
    bytes_written: int

    @property
    def failed(self) -> list[ShardResult]:
        """The shards that could not be written (after a second attempt)."""
        return [result for result in self.shards if not result.ok]


def export(
    kv: ArchivedMediaClient,
    streams: Union[str, Iterable[str]],
    start: TimeLike,
    end: TimeLike,
    out_dir: PathLike,
    *,
    shard: Union[timedelta, float] = timedelta(minutes=10),
    executor: Any = None,
    progress: bool = False,
    timestamp_type: str = "SERVER_TIMESTAMP",
) -> ExportResult:
    """Export ``[start, end]`` of every stream as MKV files of about ``shard`` each, and a manifest.

    ``streams`` are names or ARNs. Each stream is planned (``kv.plan_export``)
    and every shard run (``shard.run``) on ``executor``: anything with
    ``submit()``, such as a ``concurrent.futures`` executor or a
    ``dask.distributed.Client``; by default a thread pool of 5 threads per
    stream (at most 32). Files go to ``out_dir/<stream>/``, and
    ``out_dir/manifest.jsonl`` lists every shard. A shard that fails is run
    once more, then reported (an ``error`` in its result and row, no file),
    while the others go on. Each shard's row is appended to the manifest as
    it finishes. Ctrl-C stops the shards in flight at once (on threads, a
    process pool or Dask), leaving no partial file, and is raised again. Run
    again over the same folder, it skips the shards whose file still matches
    the manifest. Each stream keeps to 5 shards in flight and 5 started a
    second, whatever the executor. ``out_dir`` may be an S3 prefix
    (``s3://bucket/prefix``): shards and manifest go there, in the same layout.
    """
    refs = _stream_refs(streams)
    check_range(start, end)
    length = check_shard(shard)
    selector_type = check_timestamp_type(timestamp_type)
    folder = check_folder(out_dir, kv._s3)
    manifest = join(folder, MANIFEST_NAME)
    own = None if executor is not None else _thread_pool(len(refs))
    from ._dispatch import ShardRunner  # here: multiprocessing is no cost of `import kvarchive`

    # Checks the executor, and that the client pickles where it must, before any request.
    runner = ShardRunner(own or executor, kv, folder, slots=PER_STREAM)
    try:
        with ThreadPoolExecutor(min(_PLANNERS, len(refs)), "kvarchive-plan") as planners:
            plan = functools.partial(
                _plan, kv, start=start, end=end, length=length, timestamp_type=selector_type
            )
            shards = [s for stream_plan in planners.map(plan, refs) for s in stream_plan]
        done = _already_done(shards, read_manifest(manifest, kv._s3), folder, kv._s3)
        results = list(done.values())
        writer = ManifestWriter(manifest, results, kv._s3)
        try:
            todo = [s for s in shards if s.file not in done]
            with progress_bar(progress, sum(s.size for s in todo), "export") as advance:

                def finished(result: ShardResult) -> None:
                    results.append(result)
                    writer.add(result)
                    advance(result.shard.size)

                runner.run(todo, finished)
        finally:
            writer.close()
    finally:
        runner.close()
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
    results.sort(key=result_order)
    writer.finish(results)
    written = sum(r.bytes_written for r in results if r.ok and not r.skipped)
    return ExportResult(manifest=manifest, shards=results, bytes_written=written)


def _stream_refs(streams: Union[str, Iterable[str]]) -> list[StreamRef]:
    """The streams named, checked, each once: a string starting with ``arn:`` is an ARN."""
    if isinstance(streams, str):
        streams = [streams]
    refs: dict[str, StreamRef] = {}
    for value in streams:
        arn = isinstance(value, str) and value.startswith("arn:")
        ref = check_stream(None, value) if arn else check_stream(value, None)
        refs.setdefault(stream_key(ref), ref)
    if not refs:
        raise ValidationError("streams must name at least one stream")
    return list(refs.values())


def _plan(
    kv: ArchivedMediaClient,
    ref: StreamRef,
    *,
    start: TimeLike,
    end: TimeLike,
    length: timedelta,
    timestamp_type: str,
) -> list[ExportShard]:
    name = ref[1] if ref[0] == "StreamName" else None
    arn = ref[1] if ref[0] == "StreamARN" else None
    return kv.plan_export(
        stream_name=name,
        stream_arn=arn,
        start=start,
        end=end,
        shard=length,
        timestamp_type=timestamp_type,
    )


def _already_done(
    shards: list[ExportShard], rows: dict[str, Any], folder: str, s3: S3Factory
) -> dict[str, ShardResult]:
    """The shards an earlier run wrote whole, by file: checked against the manifest's rows."""
    candidates = [s for s in shards if s.file in rows]
    if not candidates:
        return {}
    with ThreadPoolExecutor(_CHECKERS, "kvarchive-check") as checkers:
        found = checkers.map(lambda s: already_done(s, rows[s.file], folder, s3), candidates)
        return {result.shard.file: result for result in found if result is not None}


def _thread_pool(streams: int) -> ThreadPoolExecutor:
    """The default executor: threads enough for every stream's share, sharing one client."""
    return ThreadPoolExecutor(min(_MAX_THREADS, PER_STREAM * streams), "kvarchive-export")
