"""The models of ``kv.inspect()``: a stream's report, its tracks, gaps, problems and supports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

import attrs

from kvarchive._models import Fragment

__all__ = ["Gap", "Problem", "StreamReport", "Support", "TrackReport"]


@attrs.frozen
class Support:
    """Whether one API works on the stream: ``ok`` (None where it cannot be known) and why.

    ``live`` is for HLS and DASH only: whether a LIVE session works now
    (``ok`` is about ON_DEMAND and LIVE_REPLAY); None for the other APIs.
    """

    ok: Optional[bool]
    reason: str
    live: Optional[bool] = None


@attrs.frozen
class TrackReport:
    """One track of the newest fragment: what its TrackEntry says and what its bytes are.

    ``format`` is what the bytes really are (``"H.264"``, ``"AAC"``, ``"PCM"``...):
    a Connect track labelled ``A_AAC`` whose MimeType tag says PCM is ``"PCM"``.
    ``sample_rate`` and ``channels`` follow the format (the MimeType tag's).
    ``frame_rate`` is what an H.264 SPS declares in its VUI timing (None without it).
    """

    number: int
    kind: str
    codec_id: str
    format: str
    name: Optional[str] = None
    codec_private: bool = False
    width: Optional[int] = None
    height: Optional[int] = None
    frame_rate: Optional[float] = None
    sample_rate: Optional[int] = None
    channels: Optional[int] = None


@attrs.frozen
class Gap:
    """Media missing between two listed fragments (producer time)."""

    after: str
    before: str
    length: timedelta


@attrs.frozen
class Problem:
    """A call of the inspection that failed: which, with what code, and what it needs."""

    operation: str
    code: str
    message: str
    permission: Optional[str] = None

    def __str__(self) -> str:
        needs = f" (needs {self.permission})" if self.permission else ""
        return f"{self.operation}: {self.code}: {self.message}{needs}"


@attrs.frozen
class StreamReport:
    """What ``kv.inspect()`` found of a stream, and which APIs work on it.

    Fields are None where a call failed (its :class:`Problem` says why) or
    where the stream has nothing to show. ``behind`` is how long before
    ``checked_at`` the newest fragment started; ``fragments`` are the
    fragments looked at (one ListFragments page), ``gaps`` the holes among them.
    """

    stream_name: Optional[str]
    stream_arn: Optional[str]
    checked_at: datetime
    status: Optional[str] = None
    retention_hours: Optional[int] = None
    kms_key_id: Optional[str] = None
    media_type: Optional[str] = None
    created: Optional[datetime] = None
    newest: Optional[Fragment] = None
    behind: Optional[timedelta] = None
    tracks: Optional[tuple[TrackReport, ...]] = None
    fragments: tuple[Fragment, ...] = attrs.field(default=(), repr=False)
    gaps: tuple[Gap, ...] = ()
    supports: dict[str, Support] = attrs.field(factory=dict, hash=False)
    problems: tuple[Problem, ...] = ()

    @property
    def shortest(self) -> Optional[timedelta]:
        """The shortest duration among the fragments looked at (None without any)."""
        return min((f.duration for f in self.fragments), default=None)

    @property
    def longest(self) -> Optional[timedelta]:
        """The longest duration among the fragments looked at (None without any)."""
        return max((f.duration for f in self.fragments), default=None)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (times ISO 8601, durations in seconds)."""
        from kvarchive._inspect.display import report_dict

        return report_dict(self)

    def __str__(self) -> str:
        from kvarchive._inspect.display import report_text

        return report_text(self)

    def _repr_html_(self) -> str:
        from kvarchive._inspect.display import report_html

        return report_html(self)
