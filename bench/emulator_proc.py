"""The emulator in its own process, driven by JSON lines on stdin (one reply line each).

Run by ``bench/common.py``; not meant to be started by hand. A separate process
keeps the emulator's HTTP serving off the measured process's GIL and CPU time,
so both sides of a comparison see the same server and only their own costs.

Requests: ``{"op": "add", "name": ..., "numbers": bool, ...add_stream kwargs}``,
``{"op": "bandwidth", "bytes_per_second": int | null}``, ``{"op": "quit"}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from kvarchive.testing import Emulator, _operations

# The emulator lists a range by reshuffling the whole range on every
# ListFragments page (O(range) per page: ~80 ms a page at 100,000 fragments),
# which would put seconds of emulator time into both sides of figure 5. The
# shuffle is deterministic, so remembering it per range changes no answer.
_real_rng = _operations.rng
_shuffles: dict[tuple[Any, ...], list[Any]] = {}


class _MemoShuffle:
    """A ``random.Random`` whose ``shuffle`` is remembered per seed and length."""

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self._parts = parts

    def shuffle(self, items: list[Any]) -> None:
        key = (*self._parts, len(items))
        done = _shuffles.get(key)
        if done is None:
            _real_rng(*self._parts).shuffle(items)
            _shuffles[key] = list(items)
        else:
            items[:] = done

    def __getattr__(self, name: str) -> Any:
        return getattr(_real_rng(*self._parts), name)


def _memo_rng(*parts: Any) -> Any:
    return _MemoShuffle(parts)


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
    patch = "--no-memo-shuffle" not in sys.argv
    if patch:
        _operations.rng = _memo_rng  # type: ignore[assignment]
    with Emulator() as emu:
        hello = {
            "endpoint_url": emu.endpoint_url,
            "data_endpoint_url": emu.data_endpoint_url,
            "memo_shuffle": patch,
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
                    emu.add_stream(name, **request)
                    reply = _stream_info(emu, name, numbers)
                elif op == "bandwidth":
                    emu.bandwidth(request.get("bytes_per_second"))
                    reply = {}
                else:
                    reply = {"error": f"unknown op {op!r}"}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
