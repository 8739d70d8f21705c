"""Fragments held in memory cut into their parts, for joining them into one recording.

:func:`split_fragment` walks the fragment with
:class:`~kvarchive._matroska.scanner.FragmentScanner`, so it accepts exactly what the
scanner accepts and raises MediaParseError on the rest.
"""

from __future__ import annotations

from typing import Optional

import attrs

from kvarchive._errors import MediaParseError
from kvarchive._matroska.elements import Buffer, name_of
from kvarchive._matroska.ids import INFO, TRACKS
from kvarchive._matroska.scanner import scan_elements

__all__ = ["FragmentParts", "split_fragment"]


def _parts_repr(parts: tuple[tuple[int, bytes], ...]) -> str:
    return "(" + ", ".join(f"{name_of(i)} <{len(b)} bytes>" for i, b in parts) + ")"


@attrs.frozen
class FragmentParts:
    """One fragment cut into the pieces a writer of a single playable file needs.

    ``ebml_header`` is the whole EBML header element, ``segment_header`` the
    Segment's ID and size field as found, ``children`` every element of the
    Segment as ``(ID, bytes)`` in order. ``to_bytes()`` gives back the input.
    """

    ebml_header: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    segment_header: bytes
    children: tuple[tuple[int, bytes], ...] = attrs.field(repr=_parts_repr)

    def _child(self, element_id: int) -> Optional[bytes]:
        return next((data for i, data in self.children if i == element_id), None)

    @property
    def info(self) -> Optional[bytes]:
        """The Info element (bytes), or None."""
        return self._child(INFO)

    @property
    def tracks(self) -> Optional[bytes]:
        """The Tracks element (bytes), or None."""
        return self._child(TRACKS)

    def to_bytes(self) -> bytes:
        """The fragment's bytes, reassembled."""
        return self.ebml_header + self.segment_header + b"".join(d for _, d in self.children)


def split_fragment(fragment: Buffer) -> FragmentParts:
    """Cut one complete fragment (a Matroska document) into its parts.

    Raises MediaParseError if the input is malformed, truncated, or not
    exactly one fragment.
    """
    data = bytes(fragment)
    events, fragments = scan_elements(data)
    if len(fragments) != 1:
        where = fragments[1].start if len(fragments) > 1 else 0
        raise MediaParseError(f"expected one fragment, found {len(fragments)}", where)
    tops = [event for event in events if event[0] == 0]
    (_, _, ebml, ebml_header, ebml_size), (_, _, segment, segment_header, _) = tops
    starts = [(element_id, start) for depth, element_id, start, _, _ in events if depth == 1]
    ends = [start for _, start in starts[1:]] + [len(data)]
    return FragmentParts(
        data[ebml : ebml + ebml_header + ebml_size],
        data[segment : segment + segment_header],
        tuple((i, data[start:end]) for (i, start), end in zip(starts, ends)),
    )
