"""get_images() end to end against the emulator: every instant once, no empty request, long ranges."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kvarchive import ArchivedMediaClient, ValidationError
from kvarchive.testing import Emulator

UTC = timezone.utc
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instants(start: datetime, end: datetime, interval: timedelta) -> list[datetime]:
    """start + k * interval up to end, end included."""
    return [start + k * interval for k in range((end - start) // interval + 1)]


def covered(stream: Any, at: datetime, selector: str = "SERVER_TIMESTAMP") -> bool:
    """Whether a stored fragment holds the instant ``at`` (wherever it starts)."""
    for fragment in stream.fragments:
        first = (
            fragment.producer_timestamp
            if selector == "PRODUCER_TIMESTAMP"
            else fragment.server_timestamp
        )
        if first <= at < first + timedelta(milliseconds=fragment.duration_ms):
            return True
    return False


def image_requests(emulator: Emulator) -> list[tuple[datetime, datetime]]:
    """The (StartTimestamp, EndTimestamp) of every GetImages request, as datetimes."""
    return [
        (
            EPOCH + timedelta(seconds=float(r.params["StartTimestamp"])),
            EPOCH + timedelta(seconds=float(r.params["EndTimestamp"])),
        )
        for r in emulator.requests
        if r.operation == "GetImages" and "NextToken" not in r.params
    ]


def check_requests(
    emulator: Emulator, start: datetime, end: datetime, lead: timedelta = timedelta(0)
) -> None:
    """Every GetImages request lies in [start - lead, end], is longer than 0 s and at most 300 s
    (``lead``: how far before ``start`` the fragment holding it may begin, plus an interval)."""
    for first, last in image_requests(emulator):
        assert start - lead <= first < last <= end, (first, last)
        assert last - first <= timedelta(seconds=300)


@pytest.mark.parametrize("minutes", [5, 10, 20])
def test_a_whole_multiple_of_five_minutes_gives_every_image_once(
    emulator: Emulator, kv: ArchivedMediaClient, minutes: int
) -> None:
    """Ranges of exactly 5, 10, 20 minutes give an image at every instant, the end included."""
    emulator.add_stream("cam", fragment_count=minutes * 30 + 1, start=T0, payload_size=64)
    end = T0 + timedelta(minutes=minutes)
    images = list(kv.get_images(stream_name="cam", start=T0, end=end))
    assert [i.timestamp for i in images] == instants(T0, end, timedelta(seconds=1))
    assert all(i.data and i.data[:2] == b"\xff\xd8" for i in images)
    check_requests(emulator, T0, end)


@pytest.mark.parametrize("interval_ms", [200, 1000, 3000, 7000, 60_000, 299_999, 400_000])
def test_instants_inside_fragments_that_straddle_a_cut_keep_their_image(
    emulator: Emulator, kv: ArchivedMediaClient, interval_ms: int
) -> None:
    """With 7 s fragments every 300 s cut falls inside one; no instant loses its image."""
    stream = emulator.add_stream(
        "cam", fragment_count=200, fragment_duration_ms=7000, start=T0, payload_size=64
    )
    start, end = T0 + timedelta(milliseconds=1500), T0 + timedelta(minutes=21)
    interval = timedelta(milliseconds=interval_ms)
    images = list(
        kv.get_images(stream_name="cam", start=start, end=end, sampling_interval=interval)
    )
    expected = [at for at in instants(start, end, interval) if covered(stream, at)]
    assert [i.timestamp for i in images] == expected
    assert all(i.data for i in images)
    check_requests(emulator, start, end, timedelta(seconds=7) + interval)


@pytest.mark.parametrize("seconds", [10, 299, 400, 1000])
def test_a_start_inside_a_fragment_gives_its_image_too(
    emulator: Emulator, kv: ArchivedMediaClient, seconds: int
) -> None:
    """start 1.5 s into a 2 s fragment: its image comes too, under and over 300 s; requests
    begin on the sampling grid and ask at most 2 instants each that are not yielded."""
    emulator.add_stream(
        "cam", fragment_count=600, fragment_duration_ms=2000, start=T0, payload_size=64
    )
    start = T0 + timedelta(milliseconds=1500)
    end, interval = start + timedelta(seconds=seconds), timedelta(seconds=1)
    images = list(
        kv.get_images(stream_name="cam", start=start, end=end, sampling_interval=interval)
    )
    assert [i.timestamp for i in images] == instants(start, end, interval)
    assert all(i.data and i.data[:2] == b"\xff\xd8" for i in images)
    requests = image_requests(emulator)
    assert all((first - start) % interval == timedelta(0) for first, _ in requests)
    asked = sum((last - first) // interval + 1 for first, last in requests)
    assert asked - len(images) <= 2 * len(requests)  # ceil(2 s / 1 s) a request
    check_requests(emulator, start, end, timedelta(seconds=2) + interval)


@pytest.mark.parametrize("selector", ["SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"])
def test_a_long_gappy_range_matches_one_unbounded_request(
    emulator: Emulator, kv: ArchivedMediaClient, selector: str
) -> None:
    """Over 40 minutes of 3 s fragments and 50 s gaps, include_empty yields every instant once.

    Where a stored fragment covers an instant there is its image, elsewhere
    NO_MEDIA: what one request over the whole range would answer.
    """
    stream = emulator.add_stream(
        "gappy", fragment_count=50, fragment_duration_ms=3000, gap_ms=50_000, start=T0
    )
    start, end = T0 + timedelta(seconds=1), T0 + timedelta(minutes=40)
    interval = timedelta(seconds=2)
    if selector == "PRODUCER_TIMESTAMP":
        lag = stream.fragments[0].server_timestamp - stream.fragments[0].producer_timestamp
        start, end = start - lag, end - lag
    pager = kv.get_images(
        stream_name="gappy",
        start=start,
        end=end,
        sampling_interval=interval,
        timestamp_type=selector,
        include_empty=True,
    )
    images = list(pager)
    assert [i.timestamp for i in images] == instants(start, end, interval)
    with_media = [covered(stream, i.timestamp, selector) for i in images]
    assert [i.data is not None for i in images] == with_media
    assert {i.error for i in images if i.data is None} == {"NO_MEDIA"}
    check_requests(emulator, start, end, timedelta(seconds=3) + interval)
    skipping = list(
        kv.get_images(
            stream_name="gappy",
            start=start,
            end=end,
            sampling_interval=interval,
            timestamp_type=selector,
        )
    )
    assert skipping == [i for i in images if i.data is not None]


def test_the_pager_tells_its_instants_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """A pager knows its first instant (to the millisecond), interval and count, unasked."""
    pager = kv.get_images(
        stream_name="cam",
        start=T0 + timedelta(microseconds=1500),
        end=T0 + timedelta(minutes=5, microseconds=1500),
        sampling_interval=timedelta(seconds=2),
    )
    assert pager.start == T0 + timedelta(milliseconds=1)
    assert pager.sampling_interval == timedelta(seconds=2)
    assert pager.instant_count == 151
    assert "151 instant(s)" in repr(pager)
    assert emulator.count() == 0


def test_more_fragments_than_a_listing_page_are_all_found(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """2500 one-second fragments, listed in halves of at most a page, each give their image."""
    stream = emulator.add_stream(
        "dense", fragment_count=2500, fragment_duration_ms=1000, start=T0, payload_size=16
    )
    start, end = T0 + timedelta(milliseconds=500), T0 + timedelta(minutes=45)
    interval = timedelta(seconds=7)
    images = list(
        kv.get_images(stream_name="dense", start=start, end=end, sampling_interval=interval)
    )
    expected = [at for at in instants(start, end, interval) if covered(stream, at)]
    assert [i.timestamp for i in images] == expected
    assert emulator.count("ListFragments") > 3
    check_requests(emulator, start, end, timedelta(seconds=1) + interval)


def test_start_equal_to_end_is_refused_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """get_images(start == end) is a ValidationError, and nothing reaches the service."""
    emulator.add_stream("cam", fragment_count=5, start=T0)
    for end in (T0, T0 + timedelta(microseconds=500)):
        with pytest.raises(ValidationError, match="end must be after start"):
            kv.get_images(stream_name="cam", start=T0, end=end)
    assert emulator.count() == 0


def test_a_year_with_a_minute_of_video_costs_a_few_calls(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """A year-long range asks only where media is stored; nothing is yielded for the rest."""
    stored_at = T0 + timedelta(days=200, seconds=17)
    stream = emulator.add_stream("cam", fragment_count=30, start=stored_at, payload_size=64)
    start, end = T0, T0 + timedelta(days=365)
    images = []
    for image in kv.get_images(stream_name="cam", start=start, end=end):
        assert emulator.count("GetImages") <= 10, "requests for instants without media"
        images.append(image)
    assert [i.timestamp for i in images] == [
        at
        for at in instants(stored_at, stored_at + timedelta(seconds=60), timedelta(seconds=1))
        if covered(stream, at)
    ]
    assert emulator.count("ListFragments") <= 60
    check_requests(emulator, start, end)


def test_a_year_of_placeholders_needs_no_request_where_nothing_is_stored(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """include_empty=True over a year of nothing yields NO_MEDIA placeholders lazily, unasked."""
    emulator.add_stream("cam", fragment_count=3, start=T0 - timedelta(days=1))
    pager = kv.get_images(
        stream_name="cam",
        start=T0,
        end=T0 + timedelta(days=365),
        sampling_interval=timedelta(minutes=1),
        include_empty=True,
    )
    first = list(itertools.islice(pager, 3))
    assert [(i.timestamp, i.data, i.error) for i in first] == [
        (T0 + timedelta(minutes=k), None, "NO_MEDIA") for k in range(3)
    ]
    assert emulator.count("GetImages") == 0
    assert emulator.count("ListFragments") == 1


def test_the_cli_images_of_the_last_five_minutes(
    emulator: Emulator, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kvarchive images --start -5m --end now`` writes the images and exits 0."""
    from kvarchive.cli import main

    emulator.add_stream("live", fragment_count=400, fragment_duration_ms=2000)
    argv = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", "images"]
    argv += ["--stream-name", "live", "--start", "-5m", "--end", "now", "--interval", "60000"]
    status = main([*argv, "-o", str(tmp_path / "frames")])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert len(out.split()) >= 5  # each instant, but perhaps the last, past the stream's end
    now = datetime.now(UTC)  # after the command's own "now"
    check_requests(emulator, now - timedelta(minutes=6), now, timedelta(seconds=2 + 60))
