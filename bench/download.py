"""Figure 7: download(concurrency=4) against concurrency=1 over capped connections."""

from __future__ import annotations

import inspect
import os
from typing import TYPE_CHECKING, Any, Callable

from common import (
    MB,
    MIB,
    Row,
    interleave,
    mb_rates,
    median,
    median_ratio,
    target_row,
)

if TYPE_CHECKING:
    from cases import Context


def figure7_download(ctx: Context) -> list[Row]:
    """download(concurrency=4) vs concurrency=1 with a per-connection bandwidth cap."""
    from kvarchive import ArchivedMediaClient

    if "concurrency" not in inspect.signature(ArchivedMediaClient.download).parameters:
        return [
            Row(
                "7",
                "download() throughput, concurrency 4 vs 1",
                None,
                None,
                "MB/s",
                None,
                ">= 3.4",
                "n/a",
                0,
                note="not available: download() has no concurrency parameter yet",
            )
        ]
    sizes = ctx.sizes
    stream = ctx.stream(
        "download", fragment_count=sizes.download_fragments, payload_size=sizes.download_payload
    )
    paced, unpaced = ctx.kv(rate_limit=True), ctx.kv(rate_limit=False)
    target = ctx.tmpdir / "download.mkv"

    def download(client: Any, concurrency: int) -> Callable[[], float]:
        def run() -> float:
            result = client.download(
                stream_name=stream.name,
                start=stream.first,
                end=stream.last,
                path=target,
                concurrency=concurrency,
            )
            if result.fragment_count != stream.count:
                raise RuntimeError(f"downloaded {result.fragment_count} of {stream.count}")
            os.unlink(target)
            return float(result.bytes_written)

        return run

    sides = {
        "c1": download(paced, 1),
        "c4": download(paced, 4),
        "c4 unpaced": download(unpaced, 4),
    }
    ctx.emu.bandwidth(sizes.download_bandwidth)
    try:
        runs = interleave(sides, sizes.download_reps)
    finally:
        ctx.emu.bandwidth(None)
    rates = {side: mb_rates(timings) for side, timings in runs.items()}
    cap = f"{sizes.download_bandwidth / MB:g} MB/s per connection"
    size_text = f"{stream.total_size / MIB:.0f} MiB"
    ctx.note(
        "7",
        f"emulator capped at {cap}; {stream.count} fragments, {size_text}; the first row uses "
        "the default client (rate limiter on: GetMediaForFragmentList paced to 5 calls/s per "
        "stream), the second rate_limit=False",
    )
    return [
        target_row(
            "7",
            f"download() {size_text} at {cap}: conc 4 vs 1",
            kv=median(rates["c4"]),
            raw=median(rates["c1"]),
            unit="MB/s",
            ratio=median_ratio(rates["c4"], rates["c1"]),
            op=">=",
            limit=3.4,
            n=sizes.download_reps,
            raw_label="kvarchive concurrency=1",
            ratio_text="c4/c1 ",
        ),
        Row(
            "7",
            "  same, rate_limit=False",
            median(rates["c4 unpaced"]),
            median(rates["c1"]),
            "MB/s",
            median_ratio(rates["c4 unpaced"], rates["c1"]),
            "(info) >= 3.4",
            "info",
            sizes.download_reps,
            "kvarchive concurrency=1",
        ),
    ]
