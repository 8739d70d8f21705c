"""A stream report's displays: a notebook table, readable text, JSON-ready values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from kvarchive import Fragment, Problem, StreamReport, Support, TrackReport

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
NEWEST = Fragment(
    "123", 4096, NOW - timedelta(seconds=41), NOW - timedelta(seconds=40), timedelta(seconds=2)
)
REPORT = StreamReport(
    "cam<1>",
    None,
    NOW,
    status="ACTIVE",
    retention_hours=24,
    newest=NEWEST,
    behind=timedelta(seconds=40),
    tracks=(TrackReport(1, "video", "V_VP8", "VP8", width=640, height=480),),
    fragments=(NEWEST,),
    supports={"GetImages": Support(False, "track 1 is VP8 (V_VP8), not H.264 or H.265")},
    problems=(
        Problem("GetDataEndpoint", "AccessDeniedException", "no", "kinesisvideo:GetDataEndpoint"),
    ),
)


def test_the_notebook_table_shows_each_api_and_escapes_names() -> None:
    """_repr_html_ holds a row per API with its answer and reason, and escapes the name."""
    page = REPORT._repr_html_()
    assert (
        "<td>GetImages</td><td>no</td><td>track 1 is VP8 (V_VP8), not H.264 or H.265</td>" in page
    )
    assert "cam&lt;1&gt;" in page and "cam<1>" not in page


def test_str_names_the_tracks_the_apis_and_the_problems() -> None:
    """str() has a line per track, per API and per problem, with the permission needed."""
    text = str(REPORT).splitlines()
    assert "  track 1 video VP8 (V_VP8), 640x480, no codec private data" in text
    assert "  GetImages: no - track 1 is VP8 (V_VP8), not H.264 or H.265" in text
    assert (
        "  GetDataEndpoint: AccessDeniedException: no (needs kinesisvideo:GetDataEndpoint)" in text
    )


def test_to_dict_is_json_with_iso_times_and_seconds() -> None:
    """to_dict() dumps as JSON: times ISO 8601 UTC, durations in seconds."""
    record = json.loads(json.dumps(REPORT.to_dict()))
    assert record["newest"]["server_timestamp"] == "2026-12-01T11:59:20.000Z"
    assert (record["behind_seconds"], record["longest_seconds"]) == (40.0, 2.0)
    assert record["supports"]["GetImages"]["ok"] is False
