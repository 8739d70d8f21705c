"""The emulator in its own process, driven by JSON lines on stdin (one reply line each).

Run by ``bench/common.py``; not meant to be started by hand. A separate process
keeps the emulator's HTTP serving off the measured process's GIL and CPU time,
so both sides of a comparison see the same server and only their own costs.

Requests: ``{"op": "add", "name": ..., "numbers": bool, ...add_stream kwargs}`` (``start``
as ISO 8601),
``{"op": "bandwidth", "bytes_per_second": int | null}``, ``{"op": "throttle",
"operation": str, "per_second": float | null}``, ``{"op": "throttled"}`` (the count
of throttled calls so far), ``{"op": "reset_faults"}``, ``{"op": "quit"}``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from kvarchive.testing import Emulator

# The emulator makes each fragment's bytes on demand, piece by piece (about a
# millisecond per fragment, whatever its size): alone it serves ~450 MB/s of
# 512 KiB fragments and ~60 MB/s of 64 KiB ones, using a whole core, so it, not
# the reader being measured, would set the rate. The bench has it keep the bytes
# of each fragment once served (up to this much) and send them whole after that.
_MEDIA_CACHE_BYTES = 3 << 30


def _stream_info(emu: Emulator, name: str, numbers: bool) -> dict[str, Any]:
    stream = emu.stream(name)
    info: dict[str, Any] = {
        "name": name,
        "count": len(stream.fragments),
        "first_ms": stream.fragments[0].server_ms if stream.fragments else None,
        "last_ms": stream.fragments[-1].server_ms if stream.fragments else None,
        "total_size": stream.total_size,
    }
    if numbers:
        info["numbers"] = [f.number for f in stream.fragments]
    return info


def main() -> None:
    """Serve until stdin closes or a ``quit`` request arrives."""
    media_cache = "--plain" not in sys.argv
    with Emulator(media_cache_bytes=_MEDIA_CACHE_BYTES if media_cache else 0) as emu:
        hello = {
            "endpoint_url": emu.endpoint_url,
            "data_endpoint_url": emu.data_endpoint_url,
            "media_cache": media_cache,
        }
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            op = request.pop("op")
            try:
                if op == "quit":
                    print("{}", flush=True)
                    return
                if op == "add":
                    name = request.pop("name")
                    numbers = bool(request.pop("numbers", False))
                    if "start" in request:
                        request["start"] = datetime.fromisoformat(request["start"])
                    emu.add_stream(name, **request)
                    reply = _stream_info(emu, name, numbers)
                elif op == "bandwidth":
                    emu.bandwidth(request.get("bytes_per_second"))
                    reply = {}
                elif op == "throttle":
                    emu.throttle(request["operation"], request.get("per_second"))
                    reply = {}
                elif op == "throttled":
                    reply = {"count": emu.throttled_count}
                elif op == "reset_faults":
                    emu.reset_faults()
                    reply = {}
                else:
                    reply = {"error": f"unknown op {op!r}"}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
