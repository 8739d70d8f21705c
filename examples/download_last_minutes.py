"""Download the last N minutes of a stream as one playable MKV file.

    python examples/download_last_minutes.py --stream-name cam --minutes 5 -o last5.mkv

With no AWS account, on the emulator (its stream "demo" is 10 s of real video ending when
it starts; dummy keys, nothing leaves the machine):

    kvarchive emulator --stream demo=sample   # in another shell: paste here the lines it prints
    python examples/download_last_minutes.py --stream-name demo --minutes 5 -o last5.mkv

--endpoint-url (and --region) point it at another endpoint, such as LocalStack.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from typing import Optional

from kvarchive import ArchivedMediaClient


def main(argv: Optional[list[str]] = None) -> int:
    """Parse arguments, download, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--stream-name", required=True)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("-o", "--outfile", default="recording.mkv")
    parser.add_argument("--region")
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)

    end = datetime.now(timezone.utc)
    start = end - timedelta(minutes=args.minutes)
    with ArchivedMediaClient(region_name=args.region, endpoint_url=args.endpoint_url) as kv:
        result = kv.download(
            stream_name=args.stream_name, start=start, end=end, path=args.outfile, progress=True
        )
    print(f"{result.path}: {result.fragment_count} fragments, {result.bytes_written} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
