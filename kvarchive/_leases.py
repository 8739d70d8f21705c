"""Per-stream leases shared by worker processes: the service's rate, kept at the call.

A client's rate limiter paces the threads of its process. Shards run in
several processes need a count they share: each shard holds one of its
stream's leases from just before its first media request until at least a
second has passed, so that no more than ``slots`` such requests of a stream
start in any second, however late the executor starts its tasks. The leases
are a ``multiprocessing`` manager's semaphores for a process pool, and
``distributed.Semaphore`` on a Dask cluster (shared by every export there).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.managers import SyncManager
from typing import TYPE_CHECKING, Any

import attrs

from ._files import PathLike
from ._shards import ExportShard, ShardResult

if TYPE_CHECKING:
    from ._client import ArchivedMediaClient

__all__ = ["DaskLease", "ManagerLeases", "run_leased"]

HOLD = 1.0  # seconds: the service's rates are per second


def run_leased(
    shard: ExportShard, kv: ArchivedMediaClient, out_dir: PathLike, lease: Any
) -> ShardResult:
    """``shard.run`` in a worker, holding ``lease`` (with ``acquire()`` and ``release()``)
    from just before its first media request until a second has passed, at least.

    The client first makes its session and resolves the data endpoint, so
    that the request follows the lease at once, not after a fresh worker's
    setup. A shard that ends sooner returns at once; a timer lets the lease go.
    """
    ref = {"stream_arn": shard.stream_arn} if shard.stream_arn else {"stream_name": shard.stream}
    kv.data_endpoint("GET_MEDIA_FOR_FRAGMENT_LIST", **ref)
    lease.acquire()
    started = time.monotonic()
    try:
        return shard.run(kv, out_dir)
    finally:
        rest = started + HOLD - time.monotonic()
        if rest > 0:
            timer = threading.Timer(rest, lease.release)
            timer.daemon = True  # a worker that exits takes it along (Dask's leases expire)
            timer.start()
        else:
            lease.release()


class ManagerLeases:
    """Leases for a process pool: a semaphore per stream in a manager process of their own."""

    def __init__(self, pool: ProcessPoolExecutor, slots: int) -> None:
        self._slots = slots
        # Started the way the pool starts its workers (fork, spawn, forkserver), so that it
        # asks of the calling program what the pool already does (a __main__ guard, say).
        context = getattr(pool, "_mp_context", None) or multiprocessing.get_context()
        self._manager = SyncManager(ctx=context)
        self._manager.start(_ignore_interrupts)
        self._leases: dict[str, Any] = {}

    def lease(self, stream: str) -> Any:
        """The stream's semaphore (a picklable proxy)."""
        if stream not in self._leases:
            self._leases[stream] = self._manager.BoundedSemaphore(self._slots)
        return self._leases[stream]

    def close(self) -> None:
        """Stop the manager process."""
        self._manager.shutdown()


def _ignore_interrupts() -> None:
    """Ctrl-C stops the export, which then stops the manager; not the manager on its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@attrs.frozen
class DaskLease:
    """One of a stream's ``slots`` leases on a Dask cluster, named after the stream."""

    name: str
    slots: int

    def acquire(self) -> None:
        _semaphore(self.name, self.slots).acquire()

    def release(self) -> None:
        _semaphore(self.name, self.slots).release()


_SEMAPHORES: dict[str, Any] = {}
_SEMAPHORES_LOCK = threading.Lock()


def _semaphore(name: str, slots: int) -> Any:
    """This process's ``distributed.Semaphore`` of that name: one each, as each keeps a
    callback running that renews its leases."""
    from distributed import Semaphore

    with _SEMAPHORES_LOCK:
        semaphore = _SEMAPHORES.get(name)
        if semaphore is None:
            semaphore = _SEMAPHORES[name] = Semaphore(max_leases=slots, name=name)  # type: ignore[no-untyped-call]
        return semaphore
