"""Progress bars through tqdm, drawn when asked for and there is a terminal to draw on."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Callable

from ._extras import optional

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(
    wanted: bool, total: int, description: str, *, unit: str = "B"
) -> Iterator[Callable[[int], None]]:
    """Yield a function that advances a bar by n units.

    Silent when not wanted or not on a terminal; on a terminal without tqdm,
    silent after a warning (once per process) that says how to install it.
    """
    if not wanted or not sys.stderr.isatty():
        yield _ignore
        return
    tqdm = optional("progress", "no progress bar: it needs tqdm", "tqdm")
    if tqdm is None:
        yield _ignore
        return
    scale = unit == "B"
    with tqdm.tqdm(
        total=total, unit=unit, unit_scale=scale, desc=description, file=sys.stderr
    ) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        yield advance


def _ignore(_: int) -> None:
    """Advance nothing."""
