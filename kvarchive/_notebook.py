"""Jupyter niceties: HTML tables and data frames (players: ``_players``; timelines: ``_timeline``).

Nothing here imports IPython: Jupyter looks for the ``_repr_*_`` methods by
name. pandas is imported only by ``to_pandas`` (the ``pandas`` extra).
"""

from __future__ import annotations

import base64
import html
import os
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from ._extras import require
from ._times import compact_seconds, compact_time

__all__ = [
    "AUDIO_INLINE_BYTES",
    "FRAGMENT_COLUMNS",
    "IMAGE_COLUMNS",
    "audio_html",
    "fragment_rows",
    "fragments_frame",
    "html_table",
    "image_rows",
    "images_frame",
]

_MAX_ROWS = 100


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, total: int) -> str:
    """An HTML table of the first rows, noting how many were left out."""
    shown = list(rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in shown
    )
    more = f"<p>... and {total - len(shown)} more</p>" if total > len(shown) else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


FRAGMENT_COLUMNS = ("number", "server_timestamp", "producer_timestamp", "duration", "size")
IMAGE_COLUMNS = ("timestamp", "error", "bytes")


def fragment_rows(fragments: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Table rows for fragments, the first hundred, times and durations compact."""
    return [
        (
            f.number,
            compact_time(f.server_timestamp),
            compact_time(f.producer_timestamp),
            compact_seconds(f.duration),
            f.size,
        )
        for f in fragments[:_MAX_ROWS]
    ]


def image_rows(images: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Table rows for images, the first hundred, times compact."""
    return [
        (compact_time(i.timestamp), i.error or "", len(i.data or b"")) for i in images[:_MAX_ROWS]
    ]


def fragments_frame(fragments: Iterable[Any]) -> Any:
    """A pandas DataFrame of fragments, one row each."""
    return _pandas().DataFrame(
        [
            {
                "number": f.number,
                "server_timestamp": f.server_timestamp,
                "producer_timestamp": f.producer_timestamp,
                "duration": f.duration,
                "size": f.size,
            }
            for f in fragments
        ],
        columns=list(FRAGMENT_COLUMNS),
    )


def images_frame(images: Iterable[Any]) -> Any:
    """A pandas DataFrame of images: timestamp, error and the image bytes."""
    return _pandas().DataFrame(
        [{"timestamp": i.timestamp, "error": i.error, "data": i.data} for i in images],
        columns=["timestamp", "error", "data"],
    )


AUDIO_INLINE_BYTES = 2 << 20
"""The largest WAV file a notebook's player holds inline (about a minute of a stereo call)."""


def audio_html(result: Any) -> str:
    """An ``AudioResult`` as an <audio> player above a table of its tracks, length and times.

    A file up to :data:`AUDIO_INLINE_BYTES` plays from a ``data:`` URL, so the
    notebook keeps it when the file is moved or the notebook shared; a larger
    one would bloat the notebook and the page, so the player points at its
    path relative to the working directory (the notebook's folder, which
    Jupyter serves, as a ``file:`` URL is refused by the browser), and says so.
    """
    path = os.fspath(result.path)
    if not os.path.isfile(path):
        player = f"<p>{html.escape(path)} is no longer there: nothing to play</p>"
    elif result.bytes_written <= AUDIO_INLINE_BYTES:
        with open(path, "rb") as wav:
            data = base64.b64encode(wav.read()).decode("ascii")
        player = f'<audio controls preload="auto" src="data:audio/wav;base64,{data}"></audio>'
    else:
        relative = urllib.parse.quote(os.path.relpath(path).replace(os.sep, "/"))
        player = (
            f'<audio controls preload="metadata" src="{html.escape(relative)}"></audio>'
            f"<p>played from {html.escape(relative)}, relative to the notebook's folder</p>"
        )
    start = result.start
    row = (
        ", ".join(map(str, result.tracks)),
        f"{result.sample_rate} Hz",
        compact_seconds(result.duration),
        "" if start is None else compact_time(start),
        "" if start is None else compact_time(start + result.duration),
        f"{path} ({result.bytes_written} bytes)",
    )
    headers = ("tracks (channel order)", "rate", "duration", "start", "end", "file")
    return player + html_table(headers, [row], total=1)


def _pandas() -> Any:
    """The pandas module, or an ImportError naming the ``pandas`` extra."""
    require("pandas", "to_pandas() needs pandas", "pandas")
    import pandas

    return pandas
