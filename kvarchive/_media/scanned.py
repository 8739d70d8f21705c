"""Media bodies read through the Matroska scanner, which finds their fragments as they stream.

Two kinds exist: the media of a fragment list from the service
(``kvarchive._media.resume``) and a local file (``kvarchive._media.file_body``). Both hand the
fragments they complete to ``MediaStream.iter_fragments`` through
:attr:`ScannedBody.collected`, so that a body is scanned once however it is read.
"""

from __future__ import annotations

import abc
from collections import deque
from typing import Optional

from kvarchive._errors import ServiceError
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.frames import ReadAt
from kvarchive._matroska.ids import TAGS
from kvarchive._matroska.scanner import DEFAULT_MAX_METADATA_SIZE, FragmentScanner

__all__ = ["Collected", "ScannedBody", "fragment_error"]

Collected = deque[tuple[FragmentInfo, Optional[str]]]
"""Completed fragments, each with the number that was asked for at its place (None for a file)."""


class ScannedBody(abc.ABC):
    """A body whose bytes go through a FragmentScanner as they are read.

    ``service`` says whether the body comes from the service, whose fragments
    always carry their number and timestamps; a file's need not.
    """

    service = True
    read_at: Optional[ReadAt] = None
    """Read bytes at a body offset, for a body that can seek (a file on disk)."""
    plain_metadata: frozenset[int] = frozenset()
    """What the scanner reads when nobody collects: boundaries only, by default."""

    def __init__(self, *, max_metadata_size: int = DEFAULT_MAX_METADATA_SIZE) -> None:
        self._scanner = FragmentScanner(
            max_metadata_size=max_metadata_size, metadata=self.plain_metadata
        )
        self._fragment_base = 0  # body offset where the fragment in progress began
        self._collected: Optional[Collected] = None

    @property
    def collected(self) -> Optional[Collected]:
        """Completed fragments, while someone collects them."""
        return self._collected

    @collected.setter
    def collected(self, queue: Optional[Collected]) -> None:
        # Tags are read only for a collector (iter_fragments); plain reads need boundaries.
        self._collected = queue
        self._scanner.metadata = self.plain_metadata if queue is None else frozenset({TAGS})

    @property
    def fragment_base(self) -> int:
        """Body offset where the fragment in progress began."""
        return self._fragment_base

    @abc.abstractmethod
    def read(self, amt: Optional[int] = None) -> bytes:
        """The next bytes of the body; ``b""`` at its end."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the body holds open."""

    def _completed(self, info: FragmentInfo, requested: Optional[str]) -> None:
        self._fragment_base = info.end
        if self._collected is not None:
            self._collected.append((info, requested))


def fragment_error(info: FragmentInfo, requested: Optional[str]) -> Optional[ServiceError]:
    """The ServiceError an error chunk stands for, naming its fragment; None for media.

    ``requested`` is the number asked for at its place, for a chunk without its own.
    """
    error = info.error()
    if error is not None:
        error.message = f"fragment {info.number or requested}: {error.message}"
        error.args = (error.message,)
    return error
