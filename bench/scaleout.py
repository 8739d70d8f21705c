"""Figure 10: kvarchive.export() over 8 streams on 1, 2, 4 and 8 workers, against the ideal.

Every connection is capped by the emulator (``bandwidth``), so that the ideal
is known: ``workers x cap``, as long as the per-stream limits leave each
worker a connection (8 streams x 5 shards in flight is 40). Each run exports
the first N shards of every stream for N workers (8 N shards, all of one
size, on a grid that the streams start on), so every run should last the
same few seconds; the ratio is what the export reaches of the ideal, with
planning, a request per shard, writing, hashing and the manifest as its
overhead. Information rows count the attempts the emulator throttled when it
holds each stream to 5 calls a second, for a 4-worker export of many short
shards on one stream, on threads, processes and (if installed) Dask.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

from common import MB, MIB, Row, interleave, mb_rates, median, median_ratio, target_row

if TYPE_CHECKING:
    from cases import Context

WORKERS = (1, 2, 4, 8)
STREAMS = 8
FRAGMENT = timedelta(seconds=2)  # the emulator's default fragment length
TARGET = 0.8


def figure10_export(ctx: Context) -> list[Row]:
    """Export throughput of 8 streams on 1-8 threads, each connection capped, vs workers x cap."""
    import kvarchive

    sizes = ctx.sizes
    shard = sizes.export_shard_fragments * FRAGMENT
    # Shards are cut on a grid of their length counted from the epoch: start on it.
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    start = epoch + (datetime.now(timezone.utc) - timedelta(hours=2) - epoch) // shard * shard
    streams = [
        ctx.stream(
            f"export-{n}",
            fragment_count=max(WORKERS) * sizes.export_shard_fragments,
            payload_size=sizes.export_payload,
            start=start.isoformat(),
        )
        for n in range(STREAMS)
    ]
    names = [s.name for s in streams]
    kv = ctx.kv(rate_limit=True)  # as a user would: paced to each stream's rates
    for name in names:  # clients made and endpoints resolved before any timing
        kv.data_endpoint("GET_MEDIA_FOR_FRAGMENT_LIST", stream_name=name)

    def export(workers: int) -> Callable[[], float]:
        end = start + workers * shard - timedelta(milliseconds=1)  # N whole shards

        def run() -> float:
            out = ctx.tmpdir / f"export-{workers}"
            with ThreadPoolExecutor(workers) as pool:
                result = kvarchive.export(kv, names, start, end, out, shard=shard, executor=pool)
            if result.failed or len(result.shards) != STREAMS * workers:
                raise RuntimeError(f"{len(result.shards)} shards, {len(result.failed)} failed")
            shutil.rmtree(out)
            return float(sum(r.shard.size for r in result.shards))

        return run

    cap = sizes.export_bandwidth
    ctx.emu.bandwidth(cap)
    try:
        runs = interleave(
            {str(w): export(w) for w in WORKERS}, sizes.export_reps, ctx.emu.cpu_seconds
        )
    finally:
        ctx.emu.bandwidth(None)
    uncapped = interleave({"8": export(max(WORKERS))}, sizes.export_reps, ctx.emu.cpu_seconds)
    shard_size = sizes.export_shard_fragments * streams[0].total_size / streams[0].count
    ctx.note(
        "10",
        f"{STREAMS} streams; N workers export N shards of each ({shard.total_seconds():g} s, "
        f"{shard_size / MIB:.1f} MiB), {STREAMS} N in all, with every connection capped at "
        f"{cap / MB:g} MB/s, on a ThreadPoolExecutor of N threads and the default (paced) "
        "client; throughput is the listed fragment bytes over the export's wall time, "
        "planning and manifest included",
    )
    rows = []
    for workers in WORKERS:
        timings = runs[str(workers)]
        rates = mb_rates(timings)
        busy = median([t.cpu / t.wall for t in timings])
        served = median([t.server_cpu / t.wall for t in timings])
        ideal = workers * cap / MB
        rows.append(
            target_row(
                "10",
                f"export(), 8 streams, {workers} worker{'s' if workers > 1 else ''}",
                kv=median(rates),
                raw=ideal,
                unit="MB/s",
                ratio=median_ratio(rates, [ideal] * len(rates)),
                op=">=",
                limit=TARGET,
                n=sizes.export_reps,
                raw_label="ideal: workers x cap",
                ratio_text="kv/ideal ",
                note=f"{median([t.wall for t in timings]):.1f} s a run; CPU busy: this process "
                f"{busy:.2f} of a core, the emulator {served:.2f}",
            )
        )
    timings = uncapped["8"]
    rows.append(
        Row(
            "10",
            "  same, 8 workers, no cap",
            median(mb_rates(timings)),
            None,
            "MB/s",
            None,
            "(info)",
            "info",
            sizes.export_reps,
            "-",
            note=f"CPU busy: this process {median([t.cpu / t.wall for t in timings]):.2f} of a "
            f"core, the emulator {median([t.server_cpu / t.wall for t in timings]):.2f}",
        )
    )
    return rows + _throttled_rows(ctx)


def _throttled_rows(ctx: Context) -> list[Row]:
    """Throttled attempts of a 4-worker export of many quick shards, the emulator at 5 calls/s."""
    import kvarchive

    stream = ctx.stream("export-throttled", fragment_count=80, payload_size=1024)
    kv = ctx.kv(rate_limit=True)
    spawn = multiprocessing.get_context("spawn")
    executors: dict[str, Callable[[], Any]] = {
        "4 threads": lambda: ThreadPoolExecutor(4),
        "4 processes": lambda: ProcessPoolExecutor(4, mp_context=spawn),
    }
    dask = _dask_cluster()
    if dask is not None:
        executors["Dask, 2 processes x 2 threads"] = dask
    rows = []
    for label, make in executors.items():
        ctx.emu.reset_faults()
        for operation in ("GetMediaForFragmentList", "ListFragments", "GetDataEndpoint"):
            ctx.emu.throttle(operation, 5)
        out = ctx.tmpdir / "export-throttled"
        with make() as executor:
            begin = time.perf_counter()
            result = kvarchive.export(
                kv, [stream.name], stream.first, stream.last, out, shard=4, executor=executor
            )
            took = time.perf_counter() - begin
        throttled = ctx.emu.throttled_count()
        ctx.emu.reset_faults()
        shutil.rmtree(out)
        retried = sum(r.attempts > 1 for r in result.shards)
        rows.append(
            Row(
                "10",
                f"  throttled attempts, {label}",
                float(throttled),
                None,
                "calls",
                None,
                "(info)",
                "info",
                1,
                "-",
                note=f"{len(result.shards)} shards of 4 s on one stream in {took:.1f} s; "
                f"{len(result.failed)} failed, {retried} needed a second attempt",
            )
        )
    return rows


def _dask_cluster() -> Optional[Callable[[], Any]]:
    """A maker of a Dask client on a local cluster of 2 worker processes, if Dask is installed."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return None

    class _Cluster:
        def __enter__(self) -> Any:
            self._cluster = LocalCluster(
                n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
            )
            self._client = Client(self._cluster)
            return self._client

        def __exit__(self, *exc_info: object) -> None:
            self._client.close()
            self._cluster.close()

    return _Cluster
