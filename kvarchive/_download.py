"""Saving media to files, never leaving a partial file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import BinaryIO, Callable, Optional, Union

from ._join import RecordingWriter
from ._media import MediaStream
from ._models import DownloadResult, Fragment
from ._progress import progress_bar

__all__ = ["atomic_file", "download_fragments", "save_stream"]

PathLike = Union[str, "os.PathLike[str]"]

# A parallel download gives each connection one contiguous batch (at most one
# request long): with GetMediaForFragmentList held to 5 calls/s per stream,
# fewer, longer calls keep every connection busy.
_MAX_BATCH = 1000
_RECORD = struct.Struct(">HQ")  # spooled fragment: number length, data length


@contextlib.contextmanager
def atomic_file(path: PathLike) -> Iterator[BinaryIO]:
    """A new file that appears at ``path`` only if the ``with`` block succeeds.

    It is written under a temporary name in the same folder and renamed over
    ``path`` at the end; on any failure it is removed.
    """
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; this honours the umask.
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.part")
    out = open(temp, "xb")  # noqa: SIM115 - closed by the with below
    try:
        with out:
            yield out
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def download_fragments(
    fragments: Sequence[Fragment],
    media: Callable[[list[Fragment]], MediaStream],
    path: PathLike,
    *,
    progress: bool = False,
    concurrency: int = 1,
) -> DownloadResult:
    """Write ``fragments`` as one MKV recording at ``path``.

    With ``concurrency`` above 1, batches of fragments are fetched over that
    many connections at once and written in order; batches that arrive
    before their turn wait in anonymous temporary files, not in memory.
    """
    with atomic_file(path) as out:
        writer = RecordingWriter(out)
        bar = progress_bar(progress, sum(f.size for f in fragments), "download")
        with bar as advance:
            if concurrency > 1:
                parts = _parallel_fragments(fragments, media, concurrency, _folder_of(path))
            else:
                parts = _sequential_fragments(fragments, media)
            for number, data in parts:
                writer.add(data, number)
                advance(len(data))
        writer.finish(_span(fragments))
        written = out.tell()
    return DownloadResult(path=path, fragment_count=writer.fragments, bytes_written=written)


def _folder_of(path: PathLike) -> str:
    """The folder a file at ``path`` goes in."""
    return os.path.dirname(os.path.abspath(os.fspath(path)))


def _sequential_fragments(
    fragments: Sequence[Fragment], media: Callable[[list[Fragment]], MediaStream]
) -> Iterator[tuple[str, bytes]]:
    """Each fragment's number and bytes, over one connection."""
    with media(list(fragments)) as stream:
        for fragment in stream.iter_fragments():
            yield fragment.number or "", fragment.data  # a fragment from the service has one


def _parallel_fragments(
    fragments: Sequence[Fragment],
    media: Callable[[list[Fragment]], MediaStream],
    concurrency: int,
    spool_folder: str,
) -> Iterator[tuple[str, bytes]]:
    """Each fragment's number and bytes, in order, fetched in batches over many connections.

    At most ``2 * concurrency`` batches are fetched or waiting at any time.
    """
    size = max(1, min(_MAX_BATCH, -(-len(fragments) // concurrency)))
    batches = [list(fragments[i : i + size]) for i in range(0, len(fragments), size)]
    pending: deque[Future[BinaryIO]] = deque()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="kvarchive-download") as pool:
        try:
            upcoming = iter(batches)
            for batch in upcoming:
                pending.append(pool.submit(_spool_batch, batch, media, spool_folder))
                if len(pending) >= 2 * concurrency:
                    break
            while pending:
                with pending.popleft().result() as spool:
                    for batch in upcoming:
                        pending.append(pool.submit(_spool_batch, batch, media, spool_folder))
                        break
                    yield from _read_spool(spool)
        finally:
            for future in pending:
                future.cancel()
            for future in pending:
                if not future.cancelled() and future.exception() is None:
                    future.result().close()


def _spool_batch(
    batch: list[Fragment], media: Callable[[list[Fragment]], MediaStream], folder: str
) -> BinaryIO:
    """Fetch one batch into an anonymous temporary file of length-prefixed fragments."""
    spool = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - handed to the caller
    try:
        with media(batch) as stream:
            for fragment in stream.iter_fragments():
                number = (fragment.number or "").encode()
                spool.write(_RECORD.pack(len(number), len(fragment.data)))
                spool.write(number)
                spool.write(fragment.data)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _read_spool(spool: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """The fragments a batch spooled, one at a time."""
    while header := spool.read(_RECORD.size):
        number_length, data_length = _RECORD.unpack(header)
        yield spool.read(number_length).decode(), spool.read(data_length)


def save_stream(stream: MediaStream, path: PathLike, fragment_count: int) -> DownloadResult:
    """Copy a whole MediaStream to ``path`` (closing the stream)."""
    with atomic_file(path) as out, stream:
        for chunk in stream.iter_chunks():
            out.write(chunk)
        written = out.tell()
    return DownloadResult(path=path, fragment_count=fragment_count, bytes_written=written)


def _span(fragments: Sequence[Fragment]) -> Optional[timedelta]:
    """How long the fragments last on the producer's clock, the clock of their Clusters."""
    if not fragments:
        return None
    first = min(f.producer_timestamp for f in fragments)
    return max(f.producer_timestamp + f.duration for f in fragments) - first
