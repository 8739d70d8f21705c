"""A local Matroska file read as a media body, for ``MediaStream.from_file``."""

from __future__ import annotations

import io
import os
import sys
from typing import BinaryIO, Optional, Union

from kvarchive._errors import MediaIncompleteError, MediaParseError, ValidationError
from kvarchive._media.scanned import ScannedBody

__all__ = ["FileBody", "FileLike"]

FileLike = Union[str, "os.PathLike[str]", BinaryIO]
"""A path, or a binary file object open for reading."""

_READ = 1 << 20


class FileBody(ScannedBody):
    """A Matroska file: a saved body, a recording, or a producer's (SDK, GStreamer, ffmpeg) file.

    Its fragments are its Matroska documents (EBML header and Segment), which
    need not carry the service's tags. A file that stops inside an element (or
    a Segment or Cluster of known size) was cut short: the read that meets its
    end raises MediaIncompleteError.
    """

    service = False

    def __init__(self, file: BinaryIO, name: str, *, owned: bool) -> None:
        # iter_fragments holds a document whole, and a recording's document holds the tags
        # of every fragment recorded: its tags need no limit of their own.
        super().__init__(max_metadata_size=sys.maxsize)
        self._file = file
        self.name = name
        self._owned = owned
        self._ended = False
        seekable = getattr(file, "seekable", None)
        if seekable is not None and seekable():
            self._origin = file.tell()  # body offset 0
            self.read_at = self._read_at

    @classmethod
    def open(cls, file: FileLike) -> FileBody:
        """Open a path (closed with the body) or wrap a file object (left open)."""
        if isinstance(file, (str, os.PathLike)):
            path = os.fspath(file)
            return cls(open(path, "rb"), path, owned=True)
        if isinstance(file, io.TextIOBase) or not callable(getattr(file, "read", None)):
            raise ValidationError(
                f"from_file takes a path or a binary file object, not {type(file).__name__}"
            )
        return cls(file, str(getattr(file, "name", type(file).__name__)), owned=False)

    def read(self, amt: Optional[int] = None) -> bytes:
        """The next bytes of the file; ``b""`` at its end, or MediaIncompleteError if cut."""
        if self._ended:
            return b""
        data = self._file.read(_READ if amt is None or amt < 0 else amt)
        if data:
            for info in self._scanner.feed(data):
                self._completed(info, None)
            return data
        self._ended = True
        try:
            last = self._scanner.finish()
        except MediaParseError as exc:
            raise MediaIncompleteError(f"{self.name} is cut short: {exc}") from exc
        for info in last:
            self._completed(info, None)
        return b""

    def _read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at body offset ``offset`` (fewer at the end), then back to reading."""
        position = self._file.tell()
        try:
            self._file.seek(self._origin + offset)
            return self._file.read(size)
        finally:
            self._file.seek(position)

    def close(self) -> None:
        """Close the file if it was opened from a path."""
        if self._owned:
            self._file.close()
