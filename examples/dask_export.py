"""Export hours of several streams on a Dask cluster: one MKV file per shard, and a manifest.

With no AWS account: without --scheduler it starts the emulator with three streams and a
local cluster of two workers, all on this machine, with dummy keys:

    pip install "kvarchive[dask]"
    python examples/dask_export.py -o export/

On AWS, a running cluster and your streams:

    python examples/dask_export.py --scheduler tcp://10.0.0.5:8786 \\
        --stream-name cam-1 --stream-name cam-2 --hours 24 -o /mnt/efs/export

Only the client's settings travel to the workers (region, endpoint, config);
each worker signs with its own credentials (its instance or task role, its
environment). ``-o`` must be a folder every worker writes to at the same path
(EFS, FSx, NFS). Run it again over the same folder to resume: shards already
written are checked against the manifest and skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from distributed import Client, LocalCluster

import kvarchive

SAMPLE_STREAMS = ("front-door", "loading-bay", "car-park")


@contextlib.contextmanager
def emulated(
    end: datetime, hours: float
) -> Iterator[tuple[kvarchive.ArchivedMediaClient, list[str], Client]]:
    """The emulator with three streams recorded for ``hours`` until ``end``, and a local
    cluster of two worker processes for it."""
    from kvarchive.testing import Emulator

    # Workers need keys of some kind to sign with, and a region; the emulator checks neither.
    dummy = {
        "AWS_ACCESS_KEY_ID": "emulator",
        "AWS_SECRET_ACCESS_KEY": "emulator",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    fragments = int(hours * 3600 / 2)  # one fragment every 2 seconds
    first = end - timedelta(seconds=2 * fragments)
    with Emulator() as emu:
        for name in SAMPLE_STREAMS:
            emu.add_stream(name, fragment_count=fragments, start=first, payload_size=16 * 1024)
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, env=dummy
        )
        with cluster, Client(cluster) as dask:
            yield emu.client(), list(SAMPLE_STREAMS), dask


@contextlib.contextmanager
def on_aws(scheduler: str, region: Optional[str]) -> Iterator[tuple[Any, Client]]:
    """A client from this machine's credential chain, and the running cluster at ``scheduler``."""
    with kvarchive.ArchivedMediaClient(region_name=region) as kv, Client(scheduler) as dask:
        yield kv, dask


def main(argv: Optional[list[str]] = None) -> int:
    """Parse arguments, export, print the manifest's path and one line per stream."""
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--scheduler", help="a running Dask scheduler (default: the emulator)")
    parser.add_argument("--stream-name", action="append", default=[], dest="streams")
    parser.add_argument("--region")
    parser.add_argument("--hours", type=float, default=0.25, help="the last N hours")
    parser.add_argument("--shard-minutes", type=float, default=2.0)
    parser.add_argument("-o", "--outfile", default="export", metavar="DIR")
    args = parser.parse_args(argv)

    end = datetime.now(timezone.utc)
    with contextlib.ExitStack() as stack:
        if args.scheduler:
            kv, dask = stack.enter_context(on_aws(args.scheduler, args.region))
            streams = args.streams
        else:
            # The emulator's recordings end at the last whole hour, not now: run again within
            # the hour, it has the same fragments, so the export resumes as it would on AWS.
            end = end.replace(minute=0, second=0, microsecond=0)
            kv, streams, dask = stack.enter_context(emulated(end, args.hours))
        start = end - timedelta(hours=args.hours)
        result = kvarchive.export(
            kv,
            streams,
            start,
            end,
            args.outfile,
            shard=timedelta(minutes=args.shard_minutes),
            executor=dask,
        )
    print(f"manifest: {os.path.relpath(result.manifest)}")
    shards = Counter(r.shard.stream for r in result.shards)
    skipped = Counter(r.shard.stream for r in result.shards if r.skipped)
    for stream, count in sorted(shards.items()):
        print(f"{stream}: {count} shards, {skipped[stream]} already written")
    print(f"{result.bytes_written} bytes written, {len(result.failed)} shards failed")
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
