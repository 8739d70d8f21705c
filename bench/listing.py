"""Figure 5: listing many fragments, sorted, against boto3's paginator and a sort."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

from common import (
    MB,
    Row,
    interleave,
    median,
    median_ratio,
    target_row,
)

if TYPE_CHECKING:
    from cases import Context


def figure5_listing(ctx: Context) -> list[Row]:
    """Listing a large range, sorted: kvarchive vs boto3's paginator plus a sort."""
    count = ctx.sizes.list_count
    stream = ctx.stream("many", fragment_count=count, payload_size=16, fragment_duration_ms=10)
    kv, raw = ctx.kv(), ctx.raw()
    # Padded by a second: boto3 sends whole seconds, which would cut the ends off.
    start, end = stream.first - timedelta(seconds=1), stream.last + timedelta(seconds=1)
    selector = {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }

    def kv_list() -> list[Any]:
        return list(kv.list_fragments(stream_name=stream.name, start=start, end=end))

    def raw_list() -> list[Any]:
        paginator = raw.get_paginator("list_fragments")
        fragments: list[Any] = []
        for page in paginator.paginate(
            StreamName=stream.name,
            FragmentSelector=selector,
            PaginationConfig={"PageSize": 1000},
        ):
            fragments.extend(page["Fragments"])
        fragments.sort(key=lambda f: (f["ServerTimestamp"], int(f["FragmentNumber"])))
        return fragments

    def counted(fn: Callable[[], list[Any]]) -> Callable[[], float]:
        def run() -> float:
            found = len(fn())
            if found != count:
                raise RuntimeError(f"listed {found} fragments of {count}")
            return found

        return run

    runs = interleave({"kv": counted(kv_list), "raw": counted(raw_list)}, ctx.sizes.list_reps)
    kv_s = [t.wall for t in runs["kv"]]
    raw_s = [t.wall for t in runs["raw"]]
    memory = {"kv": _traced(kv_list), "raw": _traced(raw_list)}
    label = "paginator + sort by (ServerTimestamp, int(number))"
    rows = [
        target_row(
            "5",
            f"list {count:,} fragments, sorted: time",
            kv=median(kv_s),
            raw=median(raw_s),
            unit="s",
            ratio=median_ratio(kv_s, raw_s),
            op="<=",
            limit=0.8,
            n=ctx.sizes.list_reps,
            raw_label=label,
        ),
        target_row(
            "5",
            "  peak traced memory while listing",
            kv=memory["kv"][1] / MB,
            raw=memory["raw"][1] / MB,
            unit="MB",
            ratio=memory["kv"][1] / memory["raw"][1],
            op="<=",
            limit=0.6,
            n=1,
            raw_label=label,
        ),
        Row(
            "5",
            "  retained memory of the result",
            memory["kv"][0] / MB,
            memory["raw"][0] / MB,
            "MB",
            memory["kv"][0] / memory["raw"][0],
            "(info)",
            "info",
            1,
            label,
        ),
    ]
    cpu = {side: median([t.cpu for t in timings]) for side, timings in runs.items()}
    ctx.note(
        "5",
        f"client CPU seconds: kv {cpu['kv']:.2f}, raw {cpu['raw']:.2f} (the rest of the wall "
        "time is the emulator's); memory by tracemalloc in separate runs from the timing runs",
    )
    kv.close()
    raw.close()
    return rows


def _traced(fn: Callable[[], Any]) -> tuple[int, int]:
    """(bytes still held with the result alive, peak bytes) allocated while running ``fn``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return current - base, peak - base
