"""Saving media to files, never leaving a partial file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import BinaryIO, Callable, Optional, Union

from ._join import RecordingWriter
from ._media import MediaStream
from ._models import DownloadResult, Fragment
from ._progress import progress_bar

__all__ = ["atomic_file", "download_fragments", "save_stream"]

PathLike = Union[str, "os.PathLike[str]"]


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
) -> DownloadResult:
    """Write ``fragments`` as one MKV recording at ``path``."""
    with atomic_file(path) as out:
        writer = RecordingWriter(out)
        bar = progress_bar(progress, sum(f.size for f in fragments), "download")
        with bar as advance, media(list(fragments)) as stream:
            for fragment in stream.iter_fragments():
                writer.add(fragment.data, fragment.number)
                advance(len(fragment.data))
        writer.finish(_span(fragments))
        written = out.tell()
    return DownloadResult(path=path, fragment_count=writer.fragments, bytes_written=written)


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
