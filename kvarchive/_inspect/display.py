"""A stream report as text, as an HTML table (Jupyter) and as JSON-ready values (the CLI)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any, Optional

import attrs

from kvarchive._inspect.report import StreamReport, Support, TrackReport
from kvarchive._notebook import html_table
from kvarchive._times import compact_seconds, iso

__all__ = ["report_dict", "report_html", "report_text"]

_MARKS = {True: "yes", False: "no", None: "unknown"}


def report_dict(report: StreamReport) -> dict[str, Any]:
    """The report's facts as JSON values: times ISO 8601 UTC, durations in seconds."""
    newest = report.newest
    return {
        "stream_name": report.stream_name,
        "stream_arn": report.stream_arn,
        "checked_at": iso(report.checked_at),
        "status": report.status,
        "retention_hours": report.retention_hours,
        "kms_key_id": report.kms_key_id,
        "media_type": report.media_type,
        "created": _iso(report.created),
        "newest": None
        if newest is None
        else {
            "number": newest.number,
            "server_timestamp": iso(newest.server_timestamp),
            "producer_timestamp": iso(newest.producer_timestamp),
            "duration": newest.duration.total_seconds(),
            "size": newest.size,
        },
        "behind_seconds": _seconds(report.behind),
        "tracks": None if report.tracks is None else [attrs.asdict(t) for t in report.tracks],
        "fragments_looked_at": len(report.fragments),
        "shortest_seconds": _seconds(report.shortest),
        "longest_seconds": _seconds(report.longest),
        "gaps": [
            {"after": g.after, "before": g.before, "seconds": g.length.total_seconds()}
            for g in report.gaps
        ],
        "supports": {
            api: {"ok": s.ok, "reason": s.reason, "live": s.live}
            for api, s in report.supports.items()
        },
        "problems": [
            {
                "operation": p.operation,
                "code": p.code,
                "message": p.message,
                "permission": p.permission,
            }
            for p in report.problems
        ],
    }


def report_text(report: StreamReport) -> str:
    """The report as lines for a terminal: the stream, its tracks, then each API's answer."""
    name = report.stream_name or report.stream_arn or "?"
    lines = [f"stream {name}: {report.status or 'status unknown'}"]
    lines.append(
        f"  retention {_or(report.retention_hours, 'unknown', ' h')}, "
        f"media type {report.media_type or 'unknown'}, KMS key {report.kms_key_id or 'unknown'}"
    )
    if report.created is not None:
        lines.append(f"  created {iso(report.created)}")
    newest = report.newest
    if newest is None:
        lines.append("  no fragment listed (see problems)" if report.problems else "  no fragments")
    else:
        lines.append(
            f"  newest fragment {newest.number} at {iso(newest.server_timestamp)} "
            f"({compact_seconds(report.behind or timedelta(0))} ago), "
            f"{len(report.fragments)} looked at, {len(report.gaps)} gaps"
        )
    for track in report.tracks or ():
        lines.append(f"  track {_track_text(track)}")
    lines.append("supports:")
    for api, support in report.supports.items():
        lines.append(f"  {api}: {_mark(support)} - {support.reason}")
    if report.problems:
        lines.append("problems:")
        lines.extend(f"  {problem}" for problem in report.problems)
    return "\n".join(lines)


def report_html(report: StreamReport) -> str:
    """The report as HTML: the stream's facts, its tracks, and a table of what works."""
    name = html.escape(report.stream_name or report.stream_arn or "?")
    facts = html_table(
        ("status", "retention (h)", "media type", "KMS key", "newest fragment", "behind (s)"),
        [
            (
                report.status or "",
                _or(report.retention_hours, ""),
                report.media_type or "",
                report.kms_key_id or "",
                report.newest.number if report.newest else "none",
                compact_seconds(report.behind) if report.behind is not None else "",
            )
        ],
        total=1,
    )
    tracks = report.tracks or ()
    track_table = html_table(
        ("track", "name", "codec ID", "format", "size", "fps", "audio", "codec private data"),
        [
            (
                t.number,
                t.name or "",
                t.codec_id,
                t.format,
                f"{t.width}x{t.height}" if t.width else "",
                f"{t.frame_rate:g}" if t.frame_rate else "",
                f"{t.sample_rate} Hz x {t.channels}" if t.sample_rate else "",
                _MARKS[t.codec_private],
            )
            for t in tracks
        ],
        total=len(tracks),
    )
    support_table = html_table(
        ("API", "works", "why"),
        [(api, _mark(s), s.reason) for api, s in report.supports.items()],
        total=len(report.supports),
    )
    problems = "".join(f"<p>{html.escape(str(p))}</p>" for p in report.problems)
    return f"<h4>{name}</h4>{facts}{track_table}{support_table}{problems}"


def _track_text(track: TrackReport) -> str:
    parts = [f"{track.number} {track.kind} {track.format} ({track.codec_id})"]
    if track.name:
        parts.append(repr(track.name))
    if track.width:
        parts.append(f"{track.width}x{track.height}")
    if track.frame_rate:
        parts.append(f"{track.frame_rate:g} fps")
    if track.sample_rate:
        parts.append(f"{track.sample_rate} Hz, {track.channels} ch")
    parts.append("codec private data" if track.codec_private else "no codec private data")
    return ", ".join(parts)


def _mark(support: Support) -> str:
    live = "" if support.live is None else f" (LIVE: {_MARKS[support.live]})"
    return _MARKS[support.ok] + live


def _or(value: Optional[int], missing: str, unit: str = "") -> str:
    return missing if value is None else f"{value}{unit}"


def _iso(value: Optional[datetime]) -> Optional[str]:
    return None if value is None else iso(value)


def _seconds(value: Optional[timedelta]) -> Optional[float]:
    return None if value is None else value.total_seconds()
