"""kv.inspect() over HTTP against the emulator: the facts, the supports, the calls it costs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from inspecting import inspected

from kvarchive import ArchivedMediaClient
from kvarchive.errors import ResourceNotFoundError, ValidationError
from kvarchive.testing import Emulator

DATA_CALLS = ["DescribeStream", "GetDataEndpoint", "ListFragments", "GetDataEndpoint"]
ALL_CALLS = [*DATA_CALLS, "GetMediaForFragmentList"]


def test_the_sample_stream_is_reported_in_five_calls(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """H.264 + AAC real media: DescribeStream, ListFragments, one fragment's media, two endpoints."""
    emu.add_sample_stream("cam")
    report = inspected(emu, kv, "cam")
    assert [r.operation for r in emu.requests] == ALL_CALLS
    assert report.problems == ()
    assert all(s.ok is True for s in report.supports.values())
    assert report.supports["HLS"].live is True


def test_the_sample_streams_tracks_are_what_its_bytes_say(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """The sample's tracks: 320x240 H.264 at 15 fps and 16 kHz mono AAC, with codec private data."""
    emu.add_sample_stream("cam")
    video, audio = inspected(emu, kv, "cam").tracks or ()
    assert video.frame_rate == 15.0
    assert (video.format, video.width, video.height, video.codec_private) == (
        "H.264",
        320,
        240,
        True,
    )
    assert (audio.format, audio.sample_rate, audio.channels, audio.codec_private) == (
        "AAC",
        16000,
        1,
        True,
    )


def test_the_description_comes_from_describe_stream(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """Status, retention, KMS key, media type and creation time are DescribeStream's."""
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    emu.add_sample_stream("cam", retention_hours=48, kms_key_id="alias/mine", created=created)
    report = inspected(emu, kv, "cam")
    assert (report.status, report.retention_hours, report.kms_key_id) == (
        "ACTIVE",
        48,
        "alias/mine",
    )
    assert (report.media_type, report.created) == ("video/h264,audio/aac", created)


def test_the_newest_fragment_is_the_last_one_stored(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """The newest fragment is the stream's last, and how far behind now is measured from it."""
    stream = emu.add_sample_stream("cam")
    report = inspected(emu, kv, "cam")
    assert report.newest is not None and report.newest.number == stream.fragments[-1].number
    assert report.behind is not None and timedelta(0) <= report.behind < timedelta(seconds=30)
    assert len(report.fragments) == len(stream.fragments)


def test_an_unknown_stream_is_resource_not_found(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """A stream the service does not have raises ResourceNotFoundError, as any call would."""
    with pytest.raises(ResourceNotFoundError):
        kv.inspect(stream_name="nobody")


def test_bad_input_is_refused_before_any_request(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """Both a name and an ARN, or a bad name, raise ValidationError without a request."""
    emu.clear_requests()
    with pytest.raises(ValidationError):
        kv.inspect(stream_name="cam", stream_arn="arn:aws:kinesisvideo:us-east-1:1:stream/cam/1")
    with pytest.raises(ValidationError):
        kv.inspect(stream_name="bad name!")
    assert emu.requests == []


def test_a_stream_named_by_its_arn_is_reported_the_same(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """stream_arn= reaches the same stream: its name and ARN both in the report."""
    stream = emu.add_sample_stream("cam")
    report = kv.inspect(stream_arn=stream.arn)
    assert (report.stream_name, report.stream_arn) == ("cam", stream.arn)
    assert report.problems == () and report.tracks is not None
    assert all("StreamARN" in r.params and "StreamName" not in r.params for r in emu.requests)


def test_the_newest_fragment_of_a_busy_stream_is_its_last(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """3000 fragments of 100 ms: the one-minute listing holds the newest in its one page."""
    stream = emu.add_stream("busy", fragment_count=3000, fragment_duration_ms=100, payload_size=64)
    report = inspected(emu, kv, "busy")
    assert report.newest is not None and report.newest.number == stream.fragments[-1].number
    assert emu.count("ListFragments") == 1


def test_a_stream_quiet_for_minutes_is_found_by_the_hour_listing(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """Newest fragment ten minutes old: the minute is empty, the hour finds it (two listings)."""
    start = datetime.now(timezone.utc) - timedelta(minutes=11)
    stream = emu.add_stream("quiet", fragment_count=3, start=start)
    report = inspected(emu, kv, "quiet")
    assert emu.count("ListFragments") == 2
    assert report.newest is not None and report.newest.number == stream.fragments[-1].number
