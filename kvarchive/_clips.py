"""Long ranges as consecutive MP4 clips, since GetClip silently stops early.

GetClip returns at most 200 fragments or 100 MB of a range and says nothing
about the rest. A clip's range selects the fragments that *start* within it
(both ends inclusive), so a plan of fragment groups becomes ranges from each
group's first start to its last start: consecutive, never overlapping. GetClip
refuses an end equal to the start, so a group of one fragment ends 1 ms after it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta

from ._errors import ClipTruncationWarning
from ._models import Fragment
from ._service import CLIP_MAX_BYTES, CLIP_MAX_FRAGMENTS

__all__ = [
    "CLIP_GROUP_BYTES",
    "clip_ranges",
    "plan_clips",
    "warn_if_truncated",
]

_SMALLEST_RANGE = timedelta(milliseconds=1)
CLIP_GROUP_BYTES = 80 * 1000 * 1000
"""The listed bytes ``download_clips`` asks one GetClip for by default, well within its limit."""


def plan_clips(
    fragments: Sequence[Fragment], *, max_fragments: int, max_bytes: int
) -> list[list[Fragment]]:
    """Cut time-ordered fragments into consecutive groups within both limits.

    A single fragment larger than ``max_bytes`` still gets a group of its own.
    """
    groups: list[list[Fragment]] = []
    group: list[Fragment] = []
    size = 0
    for fragment in fragments:
        if group and (len(group) == max_fragments or size + fragment.size > max_bytes):
            groups.append(group)
            group, size = [], 0
        group.append(fragment)
        size += fragment.size
    if group:
        groups.append(group)
    return groups


def clip_ranges(
    groups: Sequence[Sequence[Fragment]], timestamp_type: str
) -> list[tuple[datetime, datetime]]:
    """Each group's GetClip range: its first fragment's start to its last fragment's start."""

    def start(fragment: Fragment) -> datetime:
        if timestamp_type == "PRODUCER_TIMESTAMP":
            return fragment.producer_timestamp
        return fragment.server_timestamp

    ranges = [(start(group[0]), start(group[-1])) for group in groups]
    return [(first, max(last, first + _SMALLEST_RANGE)) for first, last in ranges]


def warn_if_truncated(fragments: Sequence[Fragment]) -> None:
    """Warn when one GetClip of these fragments is bound to come back cut short."""
    size = sum(f.size for f in fragments)
    if len(fragments) > CLIP_MAX_FRAGMENTS or size > CLIP_MAX_BYTES:
        message = (
            f"this range holds {len(fragments)} fragments ({size} bytes); GetClip returns at "
            f"most {CLIP_MAX_FRAGMENTS} fragments or 100 MB and silently drops the rest: "
            "use download_clips() for the whole range"
        )
        warnings.warn(ClipTruncationWarning(message, len(fragments), size), stacklevel=3)
