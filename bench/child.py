"""Measurements that need a fresh process: peak RSS growth of one media read (figure 3).

``python bench/child.py SIDE ENDPOINT DATA_ENDPOINT STREAM NUMBERS_JSON`` with
SIDE ``kv`` (``MediaStream.read(1 MiB)``) or ``raw`` (boto3
``StreamingBody.read(1 MiB)``). Prints one JSON line: bytes read, RSS before
the request, peak RSS during the read (VmHWM, reset just before the request
where Linux allows) and their difference.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Callable

from common import MIB, REGION, proc_status_kb, reset_peak_rss, use_dummy_credentials


def _read_kv(endpoint: str, stream: str, numbers: list[str]) -> Callable[[], int]:
    from kvarchive import ArchivedMediaClient

    kv = ArchivedMediaClient(endpoint_url=endpoint, region_name=REGION, rate_limit=False)
    kv.data_endpoint("GET_MEDIA_FOR_FRAGMENT_LIST", stream_name=stream)  # warm: client made

    def run() -> int:
        total = 0
        with kv.get_media_for_fragment_list(stream_name=stream, fragments=numbers) as media:
            while True:
                data = media.read(MIB)
                if not data:
                    return total
                total += len(data)

    return run


def _read_raw(data_endpoint: str, stream: str, numbers: list[str]) -> Callable[[], int]:
    import boto3

    client = boto3.client(
        "kinesis-video-archived-media", endpoint_url=data_endpoint, region_name=REGION
    )
    client.meta.service_model.operation_model("GetMediaForFragmentList")  # warm the model

    def run() -> int:
        total = 0
        body = client.get_media_for_fragment_list(StreamName=stream, Fragments=numbers)["Payload"]
        try:
            while True:
                data = body.read(MIB)
                if not data:
                    return total
                total += len(data)
        finally:
            body.close()

    return run


def main() -> None:
    """Measure one read and print the JSON result."""
    use_dummy_credentials()
    side, endpoint, data_endpoint, stream, numbers_file = sys.argv[1:6]
    with open(numbers_file) as numbers_in:
        numbers = json.load(numbers_in)
    if side == "kv":
        run = _read_kv(endpoint, stream, numbers)
    else:
        run = _read_raw(data_endpoint, stream, numbers)
    before = proc_status_kb("VmRSS")["VmRSS"]
    reset = reset_peak_rss()
    total = run()
    status = proc_status_kb("VmHWM", "VmRSS")
    peak_kb = status["VmHWM"] if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "side": side,
                "bytes": total,
                "rss_before_kb": before,
                "peak_kb": peak_kb,
                "growth_mb": (peak_kb - before) * 1024 / 1e6,
                "method": "VmHWM after clear_refs" if reset else "ru_maxrss (not reset)",
            }
        )
    )


if __name__ == "__main__":
    main()
