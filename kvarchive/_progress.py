"""Progress bars through tqdm, when it is installed and there is a terminal to draw on."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Callable

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(
    wanted: bool, total: int, description: str, *, unit: str = "B"
) -> Iterator[Callable[[int], None]]:
    """Yield a function that advances a bar by n units; silent when not wanted or possible."""
    if not wanted or not sys.stderr.isatty():
        yield _ignore
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield _ignore
        return
    scale = unit == "B"
    with tqdm(total=total, unit=unit, unit_scale=scale, desc=description, file=sys.stderr) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        yield advance


def _ignore(_: int) -> None:
    """Advance nothing."""
