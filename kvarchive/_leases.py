"""What worker processes share with the export that runs them: per-stream leases, a stop flag.

A client's rate limiter paces the threads of its process. Shards run in
several processes need a count they share: each shard holds one of its
stream's leases from just before its first media request until at least a
second has passed, so that no more than ``slots`` such requests of a stream
start in any second, however late the executor starts its tasks. The leases
are a ``multiprocessing`` manager's semaphores for a process pool, and
``distributed.Semaphore`` on a Dask cluster (shared by every export there).

A worker cannot be interrupted from the export's process, so each export
has a flag (the manager's ``Event``, a ``distributed.Event``) that its shards
watch while they run: set on Ctrl-C, it stops them at once, leaving no file.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.managers import SyncManager
from typing import TYPE_CHECKING, Any

import attrs

from ._files import PathLike
from ._shards import ExportShard, ShardResult
from ._stop_signal import StopSignal

if TYPE_CHECKING:
    from ._client import ArchivedMediaClient

__all__ = ["DaskFlag", "DaskLease", "ManagerLeases", "run_leased"]

HOLD = 1.0  # seconds: the service's rates are per second
_WATCH = 0.5  # seconds: how long a watcher's wait on the flag lasts before it looks again


def run_leased(
    shard: ExportShard, kv: ArchivedMediaClient, out_dir: PathLike, lease: Any, flag: Any
) -> ShardResult:
    """``shard.run`` in a worker, holding ``lease`` (with ``acquire()`` and ``release()``)
    from just before its first media request until a second has passed, at least, and
    given up at once when the export sets ``flag`` (with ``wait(timeout) -> bool``).

    The client first makes its session and resolves the data endpoint, so
    that the request follows the lease at once, not after a fresh worker's
    setup. A shard that ends sooner returns at once; a timer lets the lease go.
    """
    ref = {"stream_arn": shard.stream_arn} if shard.stream_arn else {"stream_name": shard.stream}
    kv.data_endpoint("GET_MEDIA_FOR_FRAGMENT_LIST", **ref)
    with _watching(flag) as stop:
        lease.acquire()
        started = time.monotonic()
        try:
            return shard._run(kv, out_dir, stop)
        finally:
            _release_after(lease, started + HOLD)


def _release_after(lease: Any, when: float) -> None:
    """Release ``lease`` at monotonic time ``when``, without waiting for it."""
    rest = when - time.monotonic()
    if rest > 0:
        timer = threading.Timer(rest, lease.release)
        timer.daemon = True  # a worker that exits takes it along (Dask's leases expire)
        timer.start()
    else:
        lease.release()


@contextlib.contextmanager
def _watching(flag: Any) -> Iterator[StopSignal]:
    """A StopSignal that a thread sets when ``flag`` is set, while the block runs.

    The flag is looked at once here, in the worker's own thread (where a
    ``distributed.Event`` finds its worker's client), so a shard handed out
    after Ctrl-C makes no request at all.
    """
    stop = StopSignal()
    if flag.wait(0):
        stop.set()
    done = threading.Event()

    def watch() -> None:
        try:
            while not done.is_set():
                if flag.wait(_WATCH):
                    stop.set()
                    return
        except Exception:
            # The export that holds the flag is gone (its manager stopped): nobody waits for
            # this shard any more, and a file written now would be in no manifest.
            stop.set()

    threading.Thread(target=watch, name="kvarchive-watch", daemon=True).start()
    try:
        yield stop
    finally:
        done.set()


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
        self.flag: Any = self._manager.Event()
        """The export's stop flag (a picklable proxy of the manager's Event)."""

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


class DaskFlag:
    """An export's stop flag on a Dask cluster: the ``distributed.Event`` named ``name``.

    Pickled, it is the name alone: each copy makes its Event on first use,
    with ``client`` (the export's) or, in a worker's task, that worker's.
    """

    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._client = client
        self._event: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (DaskFlag, (self.name,))

    def wait(self, timeout: float) -> bool:
        """True once the flag is set, waiting up to ``timeout`` seconds for it."""
        return bool(self._bound().wait(timeout))

    def set(self) -> None:
        self._bound().set()

    def clear(self) -> None:
        """Clear it, which lets the scheduler forget it."""
        self._bound().clear()

    def _bound(self) -> Any:
        if self._event is None:
            from distributed import Event

            self._event = Event(self.name, client=self._client)  # type: ignore[no-untyped-call]
        return self._event


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
