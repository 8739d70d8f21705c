"""One recording to S3 in a fresh process, timed and with its peak RSS growth (figure 11).

``python bench/s3_child.py SIDE ENDPOINT STREAM START END BUCKET SCRATCH`` with
SIDE ``kv`` (``download(path="s3://...")``: uploaded while fetched) or
``raw`` (what users write today: ``download()`` to a local file, then boto3's
``upload_file``). S3 is wherever ``AWS_ENDPOINT_URL_S3`` points. Prints one
JSON line: bytes, seconds (wall and CPU), RSS before the job, peak RSS during it (VmHWM,
reset just before the job where Linux allows) and their difference.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from common import (
    REGION,
    proc_status_kb,
    process_cpu_seconds,
    reset_peak_rss,
    use_dummy_credentials,
)


def _jobs(
    kv: Any, s3: Any, stream: str, start: str, end: str, bucket: str, scratch: str
) -> dict[str, Callable[[str], int]]:
    """Each side's job: write the range to S3 under a key; return the bytes written."""

    def ours(key: str) -> int:
        result = kv.download(stream_name=stream, start=start, end=end, path=f"s3://{bucket}/{key}")
        return int(result.bytes_written)

    def theirs(key: str) -> int:
        local = os.path.join(scratch, key)
        result = kv.download(stream_name=stream, start=start, end=end, path=local)
        try:
            s3.upload_file(local, bucket, key)
        finally:
            os.unlink(local)
        return int(result.bytes_written)

    return {"kv": ours, "raw": theirs}


def main() -> None:
    """Warm the clients (a small upload, a 1 s download), then time and measure one job."""
    use_dummy_credentials()
    side, endpoint, stream, start, end, bucket, scratch = sys.argv[1:8]
    import boto3

    from kvarchive import ArchivedMediaClient

    kv = ArchivedMediaClient(endpoint_url=endpoint, region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    job = _jobs(kv, s3, stream, start, end, bucket, scratch)[side]
    s3.put_object(Bucket=bucket, Key=f"{side}.warm", Body=b"warm")  # S3 client made and used
    warm_end = (datetime.fromisoformat(start) + timedelta(seconds=1)).isoformat()
    warm = os.path.join(scratch, f"{side}.warm.mkv")
    kv.download(stream_name=stream, start=start, end=warm_end, path=warm)  # media client made
    os.unlink(warm)
    before = proc_status_kb("VmRSS")["VmRSS"]
    reset = reset_peak_rss()
    began, cpu = time.perf_counter(), process_cpu_seconds(os.getpid())
    total = job(f"{side}.mkv")
    seconds = time.perf_counter() - began
    cpu = process_cpu_seconds(os.getpid()) - cpu
    status = proc_status_kb("VmHWM")
    peak_kb = status["VmHWM"] if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = s3.head_object(Bucket=bucket, Key=f"{side}.mkv")["ContentLength"]
    s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"{side}.mkv"}, {"Key": f"{side}.warm"}]}
    )
    print(
        json.dumps(
            {
                "side": side,
                "bytes": total,
                "object_bytes": size,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rss_before_kb": before,
                "peak_kb": peak_kb,
                "growth_mb": (peak_kb - before) * 1024 / 1e6,
                "method": "VmHWM after clear_refs" if reset else "ru_maxrss (not reset)",
            }
        )
    )


if __name__ == "__main__":
    main()
