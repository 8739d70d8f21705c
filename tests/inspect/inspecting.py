"""One inspection as the tests make it: the emulator's record cleared, then ``kv.inspect``."""

from __future__ import annotations

from kvarchive import ArchivedMediaClient, StreamReport
from kvarchive.testing import Emulator


def inspected(emu: Emulator, kv: ArchivedMediaClient, name: str) -> StreamReport:
    """``kv.inspect`` of stream ``name``, with the emulator's record of requests cleared first."""
    emu.clear_requests()
    return kv.inspect(stream_name=name)
