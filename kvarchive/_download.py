"""Saving a range of fragments as one recording, never leaving a partial file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from typing import Callable, Union

from ._join import RecordingWriter
from ._media import MediaStream
from ._models import DownloadResult, Fragment
from ._progress import progress_bar

__all__ = ["download_fragments"]


def download_fragments(
    fragments: Sequence[Fragment],
    media: Callable[[list[Fragment]], MediaStream],
    path: Union[str, os.PathLike[str]],
    *,
    progress: bool = False,
) -> DownloadResult:
    """Write ``fragments`` as one MKV recording at ``path``, through a temporary file.

    The temporary file sits in the same folder and is renamed over ``path``
    only once every fragment is written; on any failure it is removed.
    """
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; this honours the umask.
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.part")
    out = open(temp, "xb")  # noqa: SIM115 - closed by the with below
    try:
        with out:
            writer = RecordingWriter(out)
            bar = progress_bar(progress, sum(f.size for f in fragments), "download")
            with bar as advance, media(list(fragments)) as stream:
                for fragment in stream.iter_fragments():
                    writer.add(fragment.data, fragment.number)
                    advance(len(fragment.data))
            writer.finish()
            written = out.tell()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return DownloadResult(path=path, fragment_count=writer.fragments, bytes_written=written)
