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

from kvarchive.testing import Emulator, _operations, _streams

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


# The emulator makes each fragment's bytes on demand, piece by piece (about a
# millisecond per fragment, whatever its size): alone it serves ~450 MB/s of
# 512 KiB fragments and ~60 MB/s of 64 KiB ones, using a whole core, so it, not
# the reader being measured, would set the rate. The bench keeps the bytes of
# each fragment once served (up to _CACHE_LIMIT) and sends them whole after that.
_CACHE_LIMIT = 3 << 30
_fragment_bytes: dict[int, bytes] = {}
_cached_size = [0]
_real_iter_chunks = _streams.FragmentRecord.iter_chunks


def _cached_iter_chunks(self: Any) -> Any:
    data = _fragment_bytes.get(id(self))
    if data is not None:
        return iter((data,))
    if _cached_size[0] + self.size > _CACHE_LIMIT:
        return _real_iter_chunks(self)
    data = b"".join(_real_iter_chunks(self))
    _fragment_bytes[id(self)] = data
    _cached_size[0] += len(data)
    return iter((data,))


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
    patch = "--plain" not in sys.argv
    if patch:
        _operations.rng = _memo_rng  # type: ignore[assignment]
        _streams.FragmentRecord.iter_chunks = _cached_iter_chunks  # type: ignore[method-assign]
    with Emulator() as emu:
        hello = {
            "endpoint_url": emu.endpoint_url,
            "data_endpoint_url": emu.data_endpoint_url,
            "patched": patch,
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
