"""A 200 MB recording to S3 in a child process: its memory grows by a few parts, not the object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
MiB = 1 << 20

# The download as a user's script makes it; it reports its resident memory before the
# download (client warmed up) and its peak after: VmHWM, the peak of this process's own
# memory (ru_maxrss would not do: Linux carries it over from the forking parent, the tests).
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from kvarchive import ArchivedMediaClient

    def status(field):
        with open("/proc/self/status") as lines:
            line = next(l for l in lines if l.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    kv = ArchivedMediaClient(endpoint_url=sys.argv[1], region_name="us-east-1")
    kv.download(stream_name="big", start=sys.argv[3], end=sys.argv[2], path=sys.argv[5] + ".warm")
    before = status("VmRSS")
    result = kv.download(
        stream_name="big", start=sys.argv[3], end=sys.argv[4], path=sys.argv[5],
        concurrency=int(sys.argv[6]),
    )
    peak = status("VmHWM")
    print(json.dumps({"before": before, "peak": peak, "bytes": result.bytes_written}))
    """
)


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_200_mb_download_to_s3_grows_the_process_by_at_most_150_mib(
    emulator: Emulator,
    s3_bucket: tuple[Any, str],
    moto_server_url: str,
    concurrency: int,
) -> None:
    """Peak RSS growth of a 200 MB download to s3:// stays within 150 MiB, at any concurrency."""
    s3, bucket = s3_bucket
    emulator.add_stream("big", fragment_count=100, payload_size=2 * MiB, start=T0, magic="never")
    warm_end = T0 + timedelta(seconds=1)
    end = T0 + timedelta(hours=1)
    url = f"s3://{bucket}/big.mkv"
    argv = [sys.executable, "-c", SCRIPT, emulator.endpoint_url]
    argv += [warm_end.isoformat(), T0.isoformat(), end.isoformat(), url, str(concurrency)]
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": moto_server_url}
    try:
        done = subprocess.run(
            argv, check=False, capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["bytes"] > 200 * 10**6
        assert s3.head_object(Bucket=bucket, Key="big.mkv")["ContentLength"] == report["bytes"]
        assert report["peak"] - report["before"] <= 150 * MiB
    finally:
        for key in ("big.mkv", "big.mkv.warm"):
            s3.delete_object(Bucket=bucket, Key=key)
