"""Figure 9: how soon follow() yields a fragment once ListFragments lists it, and what idling costs.

Latency is measured from the moment the emulator's producer makes a fragment
listable to the moment ``follow`` yields it. The hold-back that keeps the
order costs ``settle``, and a fragment becomes listable at a random point of
the poll interval, so the ideal mean is ``settle + poll / 2``; the rows show
the measured mean beside it. Idle rows follow an empty stream and count
ListFragments calls per poll interval (ideal: 1).

Every configuration runs at the same time, each on a stream of its own (so
each has its own per-stream rate budget), in this process: the producer's
timestamps and the follower's share one clock. Streams grow by one 270 ms
fragment at a time, each listed 0.2 s after its end; one more stream is
listed out of order (0 to 1 s late) and followed with settle = 1 s, where the
count of fragments yielded out of order should be 0.

When ``settle`` is not a multiple of ``poll``, a hold ends between two polls
and gets a ListFragments call of its own (that poll also lists new
fragments): a busy stream then costs up to two calls per poll interval and
its fragments come sooner than ``settle + poll / 2``. Idle, it is one call per poll.
"""

from __future__ import annotations

import statistics
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from common import Row, judge

FRAGMENT_MS = 270  # not a divisor of any poll: fragments are listed at every phase of it
VISIBILITY = 0.2
SPREAD = (0.0, 1.0)
SETTLES = (0.0, 1.0, 5.0)
OVERHEAD_LIMIT = 0.1  # seconds above the ideal mean latency


@dataclass
class Run:
    """One follower: its stream, settings, and what it yielded when (time.time())."""

    stream: str
    settle: float
    poll: float
    producer: Any = None
    yielded: list[tuple[str, float]] = field(default_factory=list)
    late: int = 0
    error: Optional[BaseException] = None

    def follow(self, kv: Any, until: datetime) -> None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for fragment in kv.follow(
                    stream_name=self.stream, poll=self.poll, settle=self.settle, until=until
                ):
                    self.yielded.append((fragment.number, time.time()))
            self.late = len(caught)
        except BaseException as exc:  # reported in the row, not lost in the thread
            self.error = exc


def figure9_follow(ctx: Any) -> list[Row]:
    """Follow latency against the ideal, and ListFragments calls per poll while idle."""
    from kvarchive.testing import Emulator

    polls: tuple[float, ...] = ctx.sizes.follow_polls
    seconds: float = ctx.sizes.follow_seconds
    with Emulator() as emu, emu.client() as kv:
        runs = []
        for settle in SETTLES:
            for poll in polls:
                runs.append(_live(emu, f"live-{len(runs)}", settle, poll, VISIBILITY))
        shuffled = _live(emu, "shuffled", 1.0, polls[-1], SPREAD)
        idle = []
        for poll in polls:
            emu.add_stream(f"idle-{len(idle)}", fragment_count=0)
            idle.append(Run(f"idle-{len(idle)}", 0.0, poll))
        began = time.time()
        until = datetime.fromtimestamp(began + seconds, timezone.utc)
        threads = [
            threading.Thread(target=run.follow, args=(kv, until))
            for run in [*runs, shuffled, *idle]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for run in [*runs, shuffled]:
            run.producer.stop()
        requests = emu.requests
    ctx.note(
        "9",
        f"{len(threads)} followers at once for {seconds:.0f} s, one stream each, in this process; "
        f"{FRAGMENT_MS} ms fragments listed {VISIBILITY} s after their end; fragments still "
        "held when until ends a follower are left for a next run, so they count for nothing",
    )
    rows = []
    for run in [*runs, shuffled]:
        calls = [r.time for r in requests if _is_listing(r, run.stream)]
        rows.append(_latency_row(run, calls, shuffled=run is shuffled))
    for run in idle:
        calls = [r.time for r in requests if _is_listing(r, run.stream)]
        rows.append(_idle_row(run, calls))
    return rows


def _live(emu: Any, name: str, settle: float, poll: float, delay: Any) -> Run:
    emu.add_stream(name, fragment_count=1, fragment_duration_ms=FRAGMENT_MS, payload_size=64)
    run = Run(name, settle, poll)
    run.producer = emu.start_producing(name, visibility_delay=delay)
    return run


def _is_listing(request: Any, stream: str) -> bool:
    return request.operation == "ListFragments" and request.params.get("StreamName") == stream


def _latency_row(run: Run, calls: list[float], *, shuffled: bool) -> Row:
    listed_at = {record.number: at for record, at in run.producer.visible}
    latencies = [at - listed_at[number] for number, at in run.yielded if number in listed_at]
    ideal = run.settle + run.poll / 2
    name = f"follow latency, settle={run.settle:g} s poll={run.poll:g} s"
    if shuffled:
        name += f" (listed {SPREAD[0]:g}-{SPREAD[1]:g} s late)"
    if run.error is not None or not latencies:
        error = repr(run.error) if run.error else "no fragment yielded"
        return Row("9", name, None, ideal, "s", None, "", "ERROR", 0, note=error)
    mean = statistics.mean(latencies)
    spread = (
        statistics.quantiles(latencies, n=20, method="inclusive")
        if len(latencies) > 1
        else [mean] * 19
    )
    per_poll = len(calls) * run.poll / (max(calls) - min(calls) + run.poll) if calls else 0.0
    note = (
        f"p50 {statistics.median(latencies):.3f} s, p95 {spread[18]:.3f} s, "
        f"max {max(latencies):.3f} s; yielded out of order: {run.late}; "
        f"ListFragments calls per poll interval: {per_poll:.2f}"
    )
    excess = mean - ideal
    status = "info" if shuffled else judge(excess, "<=", OVERHEAD_LIMIT)
    target = "(info)" if shuffled else f"mean - ideal <= {OVERHEAD_LIMIT:g} s"
    return Row(
        "9",
        name,
        mean,
        ideal,
        "s",
        excess,
        target,
        status,
        len(latencies),
        raw_label="ideal: settle + poll/2",
        note=note,
        ratio_format="{:+.3f} s",
    )


def _idle_row(run: Run, calls: list[float]) -> Row:
    name = f"idle ListFragments calls per poll, poll={run.poll:g} s"
    if run.error is not None or len(calls) < 4:
        return Row("9", name, None, 1.0, "", None, "", "ERROR", 0, note=repr(run.error))
    # The first call starts the grid (late by the endpoint's resolution), the last is the until
    # deadline's own (rarely on the grid): each call between should fill one poll interval.
    calls = sorted(calls)
    intervals = max(1, round((calls[-2] - calls[1]) / run.poll))
    per_poll = (len(calls) - 3) / intervals
    return Row(
        "9",
        name,
        per_poll,
        1.0,
        "",
        per_poll,
        "<= 1",
        judge(per_poll, "<=", 1.0),
        len(calls),
        raw_label="ideal",
        note=f"{len(calls)} calls over {max(calls) - min(calls):.1f} s",
    )
