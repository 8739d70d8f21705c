"""The calls of ``kv.inspect()``: a bounded few, each failure kept as a fact of the report.

DescribeStream (control plane), then at the data endpoint (GetDataEndpoint,
cached, once per API) ListFragments over the last minute, and while a
listing holds nothing, over the last hour and then the whole retention
period (back to the stream's creation): ListFragments answers in no
particular order, so a short window keeps its one page to the newest
fragments. Then GetMediaForFragmentList for the newest fragment listed: at
most five calls besides GetDataEndpoint's two. A call that fails
(access denied, a KMS key that refuses, no retention) becomes a
:class:`Problem`, and the rest goes on; an unknown stream is raised.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional, TypeVar

from kvarchive._aws.operations import Operations
from kvarchive._errors import (
    EndpointUnreachableError,
    MediaIncompleteError,
    MediaParseError,
    NoDataRetentionError,
    ResourceNotFoundError,
    ServiceError,
)
from kvarchive._inspect.report import Gap, Problem, StreamReport, TrackReport
from kvarchive._inspect.requirements import Facts, supports
from kvarchive._inspect.tracks import fragment_tracks
from kvarchive._media.stream import MediaStream
from kvarchive._models import Fragment
from kvarchive._params import fragment_selector
from kvarchive._service import LIST_MAX_RESULTS
from kvarchive._types import StreamRef

__all__ = ["GAP_TOLERANCE", "WINDOWS", "inspect_stream"]

WINDOWS = (timedelta(minutes=1), timedelta(hours=1))
"""The windows listed before the whole retention period, each while the last held nothing."""

GAP_TOLERANCE = timedelta(milliseconds=100)
"""Shorter jumps between fragments are timestamp rounding, not missing media."""

_DENIED = ("AccessDeniedException", "NotAuthorizedException", "KMSAccessDeniedException")
_NO_RETENTION_WINDOW = timedelta(days=7)  # when DescribeStream could not say
_Result = TypeVar("_Result")


class _Look:
    """One inspection: the stream, its operations, and the problems met so far."""

    def __init__(self, ops: Operations, stream: StreamRef, now: datetime) -> None:
        self.ops = ops
        self.stream = stream
        self.now = now
        self.problems: list[Problem] = []
        self.no_retention = False
        self.kms_key: Optional[str] = None

    def attempt(self, operation: str, call: Callable[[], _Result]) -> Optional[_Result]:
        """``call()``, or None after noting why it failed (an unknown stream is raised)."""
        try:
            return call()
        except ResourceNotFoundError:
            raise
        except NoDataRetentionError as exc:
            self.no_retention = True
            self._note(operation, exc.code, exc.message)
        except ServiceError as exc:
            self._note(exc.operation or operation, exc.code, exc.message)
        except (EndpointUnreachableError, MediaIncompleteError, MediaParseError) as exc:
            self._note(operation, type(exc).__name__, str(exc))
        return None

    def _note(self, operation: str, code: str, message: str) -> None:
        permission = None
        if code in _DENIED:
            permission = f"kinesisvideo:{operation}"
            if "kms" in message.lower() or code.startswith("KMS"):
                permission = f"kms:Decrypt on the stream's key {self.kms_key or ''}".rstrip()
        self.problems.append(Problem(operation, code, message, permission))

    def fragments(self, since: datetime) -> Optional[tuple[list[Fragment], bool]]:
        """One ListFragments page from ``since`` to now, and whether it holds them all."""
        selector = fragment_selector("SERVER_TIMESTAMP", since, self.now)

        def page() -> tuple[list[Fragment], bool]:
            found, token = self.ops.fragment_page(self.stream, selector, LIST_MAX_RESULTS, None)
            return found, token is None

        return self.attempt("ListFragments", page)

    def media(self, number: str) -> Optional[bytes]:
        """The Matroska document of fragment ``number`` (one GetMediaForFragmentList call)."""

        def read() -> bytes:
            fetch = functools.partial(self.ops.media, self.stream)
            with MediaStream.for_fragments([number], fetch, batch_size=1) as body:
                for fragment in body.iter_fragments():
                    return fragment.data
            raise MediaIncompleteError(f"the answer held no fragment {number}", number)

        return self.attempt("GetMediaForFragmentList", read)


def inspect_stream(ops: Operations, stream: StreamRef) -> StreamReport:
    """Look at ``stream`` in a bounded few calls and report it (see the module docstring)."""
    look = _Look(ops, stream, datetime.now(timezone.utc))
    info: dict[str, Any] = dict(look.attempt("DescribeStream", lambda: ops.describe(stream)) or {})
    look.kms_key = info.get("KmsKeyId")
    retention = info.get("DataRetentionInHours")
    created = _aware(info.get("CreationTime"))
    listed: list[Fragment] = []
    complete = False
    oldest = _wide_start(look.now, retention, created)
    starts = [look.now - window for window in WINDOWS if look.now - window > oldest]
    for since in [*starts, oldest] if retention != 0 else []:
        page = look.fragments(since)
        listed, complete = page or ([], False)
        if page is None or listed or look.no_retention:
            break
    newest = max(listed, key=lambda f: (f.server_timestamp, int(f.number)), default=None)
    data = None if newest is None else look.media(newest.number)
    tracks: Optional[tuple[TrackReport, ...]] = None
    if data is not None:
        tracks = look.attempt("GetMediaForFragmentList", functools.partial(fragment_tracks, data))
    if look.no_retention:
        retention = 0
    behind = None if newest is None else look.now - newest.server_timestamp
    facts = Facts(retention, tracks, behind, _decode_installed())
    return StreamReport(
        stream_name=info.get("StreamName") or (stream[1] if stream[0] == "StreamName" else None),
        stream_arn=info.get("StreamARN") or (stream[1] if stream[0] == "StreamARN" else None),
        checked_at=look.now,
        status=info.get("Status"),
        retention_hours=retention,
        kms_key_id=look.kms_key,
        media_type=info.get("MediaType"),
        created=created,
        newest=newest,
        behind=behind,
        tracks=tracks,
        fragments=tuple(sorted(listed, key=lambda f: (f.producer_timestamp, int(f.number)))),
        gaps=_gaps(listed) if complete else (),
        supports=supports(facts),
        problems=tuple(look.problems),
    )


def _gaps(fragments: Sequence[Fragment]) -> tuple[Gap, ...]:
    """The holes in producer time between consecutive fragments, longer than the tolerance."""
    ordered = sorted(fragments, key=lambda f: (f.producer_timestamp, int(f.number)))
    gaps = []
    for before, after in zip(ordered, ordered[1:]):
        hole = after.producer_timestamp - (before.producer_timestamp + before.duration)
        if hole > GAP_TOLERANCE:
            gaps.append(Gap(before.number, after.number, hole))
    return tuple(gaps)


def _wide_start(now: datetime, retention: Optional[int], created: Optional[datetime]) -> datetime:
    """Where the second, wider listing starts: the oldest fragment the stream may keep."""
    oldest = now - (timedelta(hours=retention) if retention else _NO_RETENTION_WINDOW)
    return max(oldest, created) if created is not None else oldest


def _aware(value: Any) -> Optional[datetime]:
    """A botocore timestamp as an aware UTC datetime (None stays None)."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _decode_installed() -> bool:
    """Whether the decode extra (PyAV and numpy) is installed, without importing it."""
    return all(importlib.util.find_spec(name) is not None for name in ("av", "numpy"))
