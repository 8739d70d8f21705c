"""Running shards on an executor, within the service's per-stream limits, retrying once.

Anything with ``submit()`` that returns futures will do: a
``concurrent.futures`` executor or a ``dask.distributed.Client``. A shard
makes one GetMediaForFragmentList call per 1000 fragments, at its start, so
each stream gets ``slots`` (the service's 5 calls per second per stream): at
most that many shards in flight, and no more started in any second. Where
that is counted depends on the executor: a thread pool's threads share the
client's rate limiter; a process pool's workers and a Dask cluster's share
per-stream leases (``_leases``), held at the call; any other executor gets
shards handed out no faster than that, with a margin for its latency.
Whatever still gets throttled (other programs on the same stream) is retried
by the client's backoff on ``ClientLimitExceededException``.

Ctrl-C (or any error here) stops the shards in flight at once, wherever they
run: a thread pool's through a StopSignal they share, a process pool's and a
Dask cluster's through the export's flag (``_leases``). A shard stopped so
leaves no file; one that finished its file before it heard is still
reported, so that its manifest row is written. (Shards on any other executor
can only be cancelled before they start.)
"""

from __future__ import annotations

import pickle
import queue
import secrets
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

import attrs

from ._errors import ValidationError
from ._files import PathLike
from ._leases import HOLD, DaskFlag, DaskLease, ManagerLeases, run_leased
from ._shards import ExportShard, ShardResult
from ._stop_signal import StopSignal

if TYPE_CHECKING:
    from ._client import ArchivedMediaClient

__all__ = ["ShardRunner", "describe"]

# Between a shard handed out and its first request lies the executor's latency (and a
# fresh worker's session): a hand-out window a little longer keeps some of that in.
_HAND_OUT_WINDOW = 1.25 * HOLD
_ATTEMPTS = 2  # a failed shard is run once more before it is reported
_GRACE = 1.0  # seconds given to shards told to stop, to say whether they had finished


@attrs.define
class _Gate:
    """One stream's share of the executor: shards in flight and when the last ones started."""

    slots: int
    window: float
    running: int = 0
    starts: deque[float] = attrs.field(factory=deque)

    def free_at(self, now: float) -> float:
        """When the next shard may start (``now`` at the earliest); inf while all slots are busy."""
        if self.running >= self.slots:
            return float("inf")
        if len(self.starts) < self.slots:
            return now
        return max(now, self.starts[0] + self.window)

    def start(self, now: float) -> None:
        self.running += 1
        self.starts.append(now)
        if len(self.starts) > self.slots:
            self.starts.popleft()


class ShardRunner:
    """Hands shards to ``executor`` for ``kv`` and ``out_dir``, ``slots`` per stream at a time.

    On a ``dask.distributed.Client`` the client is scattered to every worker
    once, and shards are submitted with ``pure=False``: Dask would otherwise
    answer a resubmitted shard with the failed future of its first attempt.
    A process pool gets the client pickled with each shard (each worker
    process keeps one copy's machinery); a thread pool shares it.
    """

    def __init__(
        self,
        executor: Any,
        kv: ArchivedMediaClient,
        out_dir: PathLike,
        *,
        slots: int,
    ) -> None:
        if not callable(getattr(executor, "submit", None)):
            raise ValidationError(
                "executor must have a submit() method, as concurrent.futures executors "
                f"and dask.distributed.Client do: {executor!r}"
            )
        if not isinstance(executor, ThreadPoolExecutor):
            # A client that refuses to pickle says why here, once, rather than once per shard.
            pickle.dumps(kv)
        self._executor = executor
        self._out_dir = out_dir
        self._slots = slots
        self._dask = type(executor).__module__.split(".")[0] == "distributed"
        self._kv: Any = executor.scatter(kv, broadcast=True, hash=False) if self._dask else kv
        processes = isinstance(executor, ProcessPoolExecutor)
        threads = isinstance(executor, ThreadPoolExecutor)
        self._leases = ManagerLeases(executor, slots) if processes else None
        self._stop = StopSignal() if threads else None
        self._flag: Any = self._leases.flag if self._leases is not None else None
        if self._dask:
            self._flag = DaskFlag(f"kvarchive-export-{secrets.token_hex(8)}", client=executor)
        counted = self._dask or processes or threads
        self._window = 0.0 if counted else _HAND_OUT_WINDOW

    def run(self, shards: Iterable[ExportShard], on_result: Callable[[ShardResult], None]) -> None:
        """Run every shard, calling ``on_result`` with each outcome as it comes (in this thread).

        A shard that raises is run once more; if it fails again its result
        carries the error. Ctrl-C (or any error here) stops every shard in
        flight (see the module) before it is raised again.
        """
        waiting: dict[str, deque[tuple[ExportShard, int]]] = {}
        for shard in shards:
            waiting.setdefault(shard.stream, deque()).append((shard, 1))
        gates = {stream: _Gate(self._slots, self._window) for stream in waiting}
        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        in_flight: dict[Any, tuple[ExportShard, int]] = {}
        try:
            while in_flight or any(waiting.values()):
                wake = self._hand_out(waiting, gates, in_flight, finished)
                try:
                    future = finished.get(timeout=None if wake == float("inf") else wake)
                except queue.Empty:
                    continue
                shard, attempt = in_flight.pop(future)
                gates[shard.stream].running -= 1
                try:
                    result: ShardResult = future.result()
                except Exception as exc:
                    if attempt < _ATTEMPTS:
                        waiting[shard.stream].appendleft((shard, attempt + 1))
                        continue
                    result = ShardResult(shard, error=describe(exc), attempts=attempt)
                else:
                    result = attrs.evolve(result, attempts=attempt)
                on_result(result)
        except BaseException:
            self._stop_in_flight(in_flight, finished, on_result)
            raise

    def _stop_in_flight(
        self,
        in_flight: dict[Any, tuple[ExportShard, int]],
        finished: queue.SimpleQueue[Any],
        on_result: Callable[[ShardResult], None],
    ) -> None:
        """Tell every shard in flight to stop, report those that had finished, cancel the rest.

        Told first, cancelled after: a Dask future cancelled while it runs
        would lose the result of a shard that had written its file.
        """
        if self._stop is not None:
            self._stop.set()
        if self._flag is not None:
            self._flag.set()

        def report(future: Any) -> None:
            entry = in_flight.pop(future, None)
            if entry is None or future.cancelled():
                return
            try:
                result: ShardResult = future.result()
            except BaseException:  # stopped (or a worker's own Ctrl-C): no row, redone next run
                return
            on_result(attrs.evolve(result, attempts=entry[1]))

        deadline = time.monotonic() + _GRACE
        try:
            # One may have finished and left the queue just as Ctrl-C came.
            for future in [f for f in in_flight if f.done()]:
                report(future)
            while in_flight:
                try:
                    report(finished.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
        finally:
            for future in in_flight:
                future.cancel()

    def close(self) -> None:
        """Let go of the client scattered to a Dask cluster and of the export's flag there,
        stop a process pool's leases."""
        if self._dask:
            self._kv.release()
            self._flag.clear()
        if self._leases is not None:
            self._leases.close()

    def _hand_out(
        self,
        waiting: dict[str, deque[tuple[ExportShard, int]]],
        gates: dict[str, _Gate],
        in_flight: dict[Any, tuple[ExportShard, int]],
        finished: queue.SimpleQueue[Any],
    ) -> float:
        """Submit what the gates let through, a stream at a time; seconds until the next may go."""
        wake = float("inf")
        progressed = True
        while progressed:  # round robin: one shard per stream per turn
            progressed = False
            for stream, pending in waiting.items():
                if not pending:
                    continue
                now = time.monotonic()
                at = gates[stream].free_at(now)
                if at > now:
                    wake = min(wake, at - now)
                    continue
                shard, attempt = pending.popleft()
                future = self._submit(shard)
                in_flight[future] = (shard, attempt)
                gates[stream].start(now)
                future.add_done_callback(finished.put)
                progressed = True
        return wake

    def _submit(self, shard: ExportShard) -> Any:
        if self._dask:
            lease = DaskLease(f"kvarchive-stream-{shard.stream}", self._slots)
            args = (run_leased, shard, self._kv, self._out_dir, lease, self._flag)
            return self._executor.submit(*args, pure=False)
        if self._leases is not None:
            lease = self._leases.lease(shard.stream)
            args = (run_leased, shard, self._kv, self._out_dir, lease, self._flag)
            return self._executor.submit(*args)
        if self._stop is not None:
            return self._executor.submit(shard._run, self._kv, self._out_dir, self._stop)
        return self._executor.submit(shard.run, self._kv, self._out_dir)


def describe(exc: BaseException) -> str:
    """An error as one line for a result and the manifest: its class and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
