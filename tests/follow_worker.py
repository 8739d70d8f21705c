"""A follower in a process of its own, for tests that stop, kill and restart it.

It follows a stream with an S3Checkpoint and handles each fragment by
appending its number to a log file (flushed to disk), then working for
``--work`` seconds, so that a kill lands mid-fragment.

    python tests/follow_worker.py ENDPOINT_URL STREAM LOG S3_URL BUCKET KEY START UNTIL
"""

from __future__ import annotations

import argparse
import os
import time

import boto3

from kvarchive import ArchivedMediaClient, S3Checkpoint


def main() -> None:
    """Follow until ``UNTIL``, logging each fragment taken."""
    parser = argparse.ArgumentParser()
    for name in ("endpoint_url", "stream", "log", "s3_url", "bucket", "key", "start", "until"):
        parser.add_argument(name)
    parser.add_argument("--work", type=float, default=0.05)
    args = parser.parse_args()
    s3 = boto3.client("s3", endpoint_url=args.s3_url, region_name="us-east-1")
    checkpoint = S3Checkpoint(args.bucket, args.key, client=s3)
    kv = ArchivedMediaClient(endpoint_url=args.endpoint_url, region_name="us-east-1")
    with kv.follow(
        stream_name=args.stream,
        start=args.start,
        until=args.until,
        checkpoint=checkpoint,
        poll=0.2,
        settle=0.8,
    ) as follower:
        for fragment in follower:
            with open(args.log, "a") as log:
                log.write(f"{fragment.number}\n")
                log.flush()
                os.fsync(log.fileno())
            time.sleep(args.work)


if __name__ == "__main__":
    main()
