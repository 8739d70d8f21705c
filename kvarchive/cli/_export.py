"""``kvarchive export``: many streams, one MKV file per shard and a manifest, here or on Dask."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import kvarchive
from kvarchive import ArchivedMediaClient, KVArchiveError
from kvarchive._extras import install_hint
from kvarchive.cli._commands import check_presign
from kvarchive.cli._output import export_lines, export_record, no_fragments, print_result, tell
from kvarchive.cli._times import DURATION_HELP, duration

__all__ = ["export", "export_options"]


def export(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    """Export the streams named, print the manifest's path and a table per stream.

    A shard that failed (after its second attempt) makes the command fail
    once all others are done, naming it.
    """
    check_presign(args)
    streams = args.stream_name or args.stream_arn
    with _executor(args.workers, args.scheduler) as executor:
        result = kvarchive.export(
            kv,
            [streams] if isinstance(streams, str) else streams,  # given before the command
            args.start,
            args.end,
            args.outfile,
            shard=args.shard,
            executor=executor,
            progress=True,  # drawn on a terminal only
            timestamp_type=args.timestamp_type,
        )
    record = export_record(result)
    lines = export_lines(result)
    if args.presign is not None:
        written = [r for r in result.shards if r.ok]
        links = {r.shard.file: r.presigned_url(args.presign) for r in written}
        record["presigned_urls"] = links
        lines += [f"{file}\t{link}" for file, link in links.items()]
    print_result(args.output, record, lines)
    if not result.shards:
        tell(f"{no_fragments(args.start, args.end)}: nothing exported")
    if result.failed:
        first = result.failed[0]
        raise KVArchiveError(
            f"{len(result.failed)} of {len(result.shards)} shards failed (listed in "
            f"{result.manifest}; run the command again to retry them), the first "
            f"{first.shard.file}: {first.error}"
        )


@contextlib.contextmanager
def _executor(workers: Optional[int], scheduler: Optional[str]) -> Iterator[Any]:
    """Threads of this process, a running Dask scheduler's client, or None (the default)."""
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise KVArchiveError(
                f"--scheduler needs dask.distributed: {install_hint('dask')}"
            ) from None
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
    elif workers is not None:
        with ThreadPoolExecutor(workers, "kvarchive-export") as pool:
            yield pool
    else:
        yield None


def export_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``export`` besides its streams, range and folder."""
    shard = f"the length of each file: {DURATION_HELP} (default: %(default)s)"
    parser.add_argument("--shard", type=duration, default="10m", help=shard)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_worker_count, help="threads in this process (default: 5 per stream)"
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler's address")


def _worker_count(text: str) -> int:
    """``--workers``: a whole number, at least 1."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"not a number of workers (1 or more): {text!r}")
    return count
