"""What every inspect test stands on: an emulator and an unpaced client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kvarchive import ArchivedMediaClient
from kvarchive.testing import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A running emulator with no streams."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def kv(emu: Emulator) -> Iterator[ArchivedMediaClient]:
    """A client of ``emu`` that does not pace its calls."""
    with emu.client(rate_limit=False) as client:
        yield client
