"""The facade end to end against the kvarchive.testing emulator, over real HTTP."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from kvarchive import (
    ArchivedMediaClient,
    Backoff,
    ClientLimitExceededError,
    Fragment,
    NoDataRetentionError,
    ResourceNotFoundError,
    WrongEndpointError,
)
from kvarchive._aws.translate import answer_field, media_answer
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
UTC = timezone.utc


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """A 30-fragment stream of 2 s fragments starting at T0."""
    return emulator.add_stream("cam", fragment_count=30, start=T0, payload_size=2048)


def expected_order(stream: Any) -> list[str]:
    """The emulator's fragments sorted as kvarchive promises: timestamp, then number as int."""
    ordered = sorted(stream.fragments, key=lambda f: (f.server_ms, int(f.number)))
    return [f.number for f in ordered]


# -- ListFragments ------------------------------------------------------------------------


def test_list_fragments_returns_every_fragment_sorted(kv: ArchivedMediaClient, cam: Any) -> None:
    """Small pages come back shuffled; iteration yields them all, in order."""
    fragments = list(
        kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1), page_size=7)
    )
    assert [f.number for f in fragments] == expected_order(cam)
    first = cam.fragments[0]
    assert fragments[0].server_timestamp == first.server_timestamp
    assert fragments[0].server_timestamp.tzinfo is UTC
    assert fragments[0].duration == timedelta(milliseconds=first.duration_ms)
    assert fragments[0].size == first.size


def test_list_fragments_sorts_numbers_as_integers(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Fragment numbers of different lengths are ordered as integers, not strings."""
    stream = emulator.add_stream(
        "mixed", fragment_count=20, start=T0, payload_size=512, mixed_number_lengths=True
    )
    lengths = {len(f.number) for f in stream.fragments}
    assert len(lengths) > 1
    fragments = list(kv.list_fragments(stream_name="mixed", start=T0, end=T0 + timedelta(hours=1)))
    assert [f.number for f in fragments] == expected_order(stream)


def test_unsorted_pages_are_in_service_order(kv: ArchivedMediaClient, cam: Any) -> None:
    """sort=False and pages() give what the service sent, all of it."""
    pager = kv.list_fragments(
        stream_name="cam", start=T0, end=T0 + timedelta(hours=1), page_size=10, sort=False
    )
    pages = list(pager.pages())
    assert [len(p) for p in pages] == [10, 10, 10]
    numbers = [f.number for p in pages for f in p]
    assert sorted(numbers) == sorted(f.number for f in cam.fragments)
    assert numbers != expected_order(cam)  # the emulator shuffles, as the service may


def test_range_bounds_keep_their_milliseconds(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """A range that starts 1 ms after a fragment's timestamp excludes that fragment."""
    second = cam.fragments[1].server_timestamp
    fragments = list(
        kv.list_fragments(
            stream_name="cam",
            start=second + timedelta(milliseconds=1),
            end=second + timedelta(seconds=4, milliseconds=1),
        )
    )
    assert [f.number for f in fragments] == [cam.fragments[2].number, cam.fragments[3].number]
    sent = [r for r in emulator.requests if r.operation == "ListFragments"][-1]
    start = sent.params["FragmentSelector"]["TimestampRange"]["StartTimestamp"]
    assert start == pytest.approx(second.timestamp() + 0.001)


def test_nothing_is_requested_until_the_pager_is_iterated(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """list_fragments() itself sends no request."""
    kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1))
    assert emulator.count() == 0


def test_empty_range_is_empty(kv: ArchivedMediaClient, cam: Any) -> None:
    """A range with no fragments yields nothing."""
    assert (
        list(
            kv.list_fragments(
                stream_name="cam", start=T0 - timedelta(days=1), end=T0 - timedelta(hours=1)
            )
        )
        == []
    )


def test_stream_arn_works_like_the_name(kv: ArchivedMediaClient, cam: Any) -> None:
    """The stream may be named by its ARN."""
    fragments = list(kv.list_fragments(stream_arn=cam.arn, start=T0, end=T0 + timedelta(hours=1)))
    assert len(fragments) == 30


def test_name_and_arn_share_one_endpoint_cache_entry(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """A stream named by name, then by ARN, costs one GetDataEndpoint per API name."""
    span = {"start": T0, "end": T0 + timedelta(hours=1)}
    for ref in ({"stream_name": "cam"}, {"stream_arn": cam.arn}) * 2:
        list(kv.list_fragments(**ref, **span))
        kv.data_endpoint("GET_CLIP", **ref)
    assert emulator.count("GetDataEndpoint") == 2


def test_name_and_arn_share_one_rate_budget(emulator: Emulator, cam: Any) -> None:
    """Calls by name and by ARN are paced as one stream: none is throttled at the service's rate."""
    emulator.throttle("ListFragments", 5)
    refs = [{"stream_name": "cam"}, {"stream_arn": cam.arn}] * 5
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, backoff=Backoff(attempts=1)) as kv:
        for ref in refs:
            list(kv.list_fragments(**ref, start=T0, end=T0 + timedelta(hours=1)))
    assert emulator.count("ListFragments") == 10
    assert emulator.throttled_count == 0


# -- endpoints ----------------------------------------------------------------------------


def test_two_hundred_calls_cost_one_get_data_endpoint(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Within the TTL, 200 list calls on one stream resolve the endpoint once."""
    for _ in range(200):
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)).pages())
    assert emulator.count("GetDataEndpoint") == 1
    assert emulator.count("ListFragments") == 200


def test_the_endpoint_is_resolved_again_after_the_ttl(emulator: Emulator, cam: Any) -> None:
    """After endpoint_ttl seconds the next call resolves the endpoint again."""
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, endpoint_ttl=0.3) as kv:
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
        time.sleep(0.4)
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
    assert emulator.count("GetDataEndpoint") == 2


def test_one_data_client_per_endpoint(emulator: Emulator, cam: Any) -> None:
    """Different API names on one endpoint URL share one boto3 client."""
    session = boto3.Session()
    created: list[str] = []
    session.events.register(
        "creating-client-class.kinesis-video-archived-media",
        lambda **_: created.append("data"),
    )
    with ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url) as kv:
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
        kv.get_hls_streaming_session_url(
            stream_name="cam", playback_mode="ON_DEMAND", start=T0, end=T0 + timedelta(seconds=10)
        )
        list(kv.get_images(stream_name="cam", start=T0, end=T0 + timedelta(seconds=2)))
    assert emulator.count("GetDataEndpoint") == 3
    assert created == ["data"]


def test_a_retired_endpoint_is_resolved_again_once(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Connections refused by a cached endpoint cause one new GetDataEndpoint and a retry."""
    list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
    emulator.retire_data_endpoint()
    fragments = list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3)))
    assert len(fragments) == 2
    assert emulator.count("GetDataEndpoint") == 2
    assert kv.data_endpoint("LIST_FRAGMENTS", stream_name="cam") == emulator.data_endpoint_url


def test_sixteen_threads_share_one_resolution(emulator: Emulator, cam: Any) -> None:
    """Sixteen threads on a fresh client cause one GetDataEndpoint and all succeed."""
    emulator.stall_next("GetDataEndpoint", 0.3)
    barrier = threading.Barrier(16)
    counts: list[int] = []
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, rate_limit=False) as kv:

        def work() -> None:
            barrier.wait()
            pager = kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1))
            counts.append(len(list(pager)))

        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert counts == [30] * 16
    assert emulator.count("GetDataEndpoint") == 1


# -- errors and throttling ----------------------------------------------------------------


def test_throttling_is_retried_until_it_passes(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Two ClientLimitExceededException answers are absorbed by kvarchive's backoff."""
    emulator.fail_next("ListFragments", "ClientLimitExceededException", count=2, status=400)
    assert (
        len(list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=3))))
        == 2
    )
    assert emulator.count("ListFragments") == 3


def test_throttling_surfaces_when_the_budget_is_spent(emulator: Emulator, cam: Any) -> None:
    """With attempts=2, a third throttled answer is not tried: the error surfaces with its details."""
    emulator.fail_next("GetClip", "ClientLimitExceededException", count=5, status=400)
    backoff = Backoff(attempts=2, base=0.001, cap=0.001)
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, backoff=backoff) as kv:
        with pytest.raises(ClientLimitExceededError) as caught:
            kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(seconds=10))
    assert emulator.count("GetClip") == 2
    assert caught.value.request_id
    assert caught.value.retryable
    assert caught.value.error_type.startswith("ClientLimitExceededException")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ResourceNotFoundException", 404),
        ("InvalidArgumentException", 400),
        ("NotAuthorizedException", 401),
        ("NoDataRetentionException", 400),
        ("UnsupportedStreamMediaTypeException", 400),
        ("MissingCodecPrivateDataException", 400),
        ("InvalidCodecPrivateDataException", 400),
        ("InvalidMediaFrameException", 400),
    ],
)
def test_service_errors_arrive_typed(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any, code: str, status: int
) -> None:
    """Each documented code, as sent on the wire, raises its class with code, status and request id."""
    from kvarchive._errors import ERROR_CLASSES

    emulator.fail_next("GetImages", code, status=status, message="planted message")
    with pytest.raises(ERROR_CLASSES[code]) as caught:
        list(kv.get_images(stream_name="cam", start=T0, end=T0 + timedelta(seconds=5)))
    error = caught.value
    assert (error.code, error.status_code, error.message) == (code, status, "planted message")
    assert error.operation == "GetImages"
    assert error.request_id
    assert error.error_type and error.error_type.startswith(code)


def test_unknown_stream(kv: ArchivedMediaClient, emulator: Emulator) -> None:
    """An unknown stream fails at GetDataEndpoint with ResourceNotFoundError."""
    with pytest.raises(ResourceNotFoundError) as caught:
        list(kv.list_fragments(stream_name="nope", start=T0, end=T0 + timedelta(seconds=3)))
    assert caught.value.operation == "GetDataEndpoint"


def test_a_stream_without_retention_is_no_data_retention_error(
    kv: ArchivedMediaClient, emulator: Emulator
) -> None:
    """Listing a stream that keeps no archive raises NoDataRetentionError, as on the service."""
    emulator.add_stream("cold", fragment_count=3, start=T0, retention_hours=0)
    with pytest.raises(NoDataRetentionError) as caught:
        list(kv.list_fragments(stream_name="cold", start=T0, end=T0 + timedelta(seconds=10)))
    assert (caught.value.operation, caught.value.status_code) == ("ListFragments", 400)


def test_a_200_from_the_wrong_endpoint_is_an_error(emulator: Emulator, cam: Any) -> None:
    """The control plane's HTTP 200 answer to a data-plane call is WrongEndpointError, not emptiness."""
    raw = boto3.client("kinesis-video-archived-media", endpoint_url=emulator.endpoint_url)
    response = raw.list_fragments(
        StreamName="cam",
        FragmentSelector={
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + timedelta(seconds=3)},
        },
    )
    raw.close()
    with pytest.raises(WrongEndpointError, match="Fragments"):
        answer_field(response, "Fragments", "ListFragments")


def test_media_from_the_wrong_endpoint_is_an_error(emulator: Emulator, cam: Any) -> None:
    """The control plane's 90-byte HTTP 200 answer to GetMediaForFragmentList is
    WrongEndpointError, not an empty body."""
    raw = boto3.client("kinesis-video-archived-media", endpoint_url=emulator.endpoint_url)
    response = raw.get_media_for_fragment_list(
        StreamName="cam", Fragments=[cam.fragments[0].number]
    )
    raw.close()
    with pytest.raises(WrongEndpointError, match="instead of media"):
        media_answer(response, "GetMediaForFragmentList")


# -- media --------------------------------------------------------------------------------


def test_media_bytes_are_the_fragments_in_the_given_order(
    kv: ArchivedMediaClient, cam: Any
) -> None:
    """The body is the fragments' bytes, concatenated in the order asked for."""
    chosen = [cam.fragments[5], cam.fragments[1], cam.fragments[3]]
    with kv.get_media_for_fragment_list(
        stream_name="cam", fragments=[f.number for f in chosen]
    ) as media:
        body = b"".join(media.iter_chunks(4096))
        assert media.content_type == "video/webm"
    assert body == b"".join(f.data() for f in chosen)


def test_more_than_1000_fragments_are_fetched_in_batches(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """2500 fragments take three requests of at most 1000, concatenated in order."""
    stream = emulator.add_stream(
        "many", fragment_count=2500, start=T0, payload_size=16, fragment_duration_ms=100
    )
    fragments = list(kv.list_fragments(stream_name="many", start=T0, end=T0 + timedelta(hours=1)))
    assert len(fragments) == 2500
    with kv.get_media_for_fragment_list(stream_name="many", fragments=fragments) as media:
        numbers = [f.number for f in media.iter_fragments()]
    assert numbers == [f.number for f in stream.fragments]
    sizes = [
        len(r.params["Fragments"])
        for r in emulator.requests
        if r.operation == "GetMediaForFragmentList"
    ]
    assert sizes == [1000, 1000, 500]


def test_fragment_objects_are_accepted(kv: ArchivedMediaClient, cam: Any) -> None:
    """Fragments from list_fragments can be passed straight to the media call."""
    fragments: list[Fragment] = list(
        kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=5))
    )
    with kv.get_media_for_fragment_list(stream_name="cam", fragments=fragments) as media:
        parsed = list(media.iter_fragments())
    assert [p.number for p in parsed] == [f.number for f in fragments]
    assert [p.server_timestamp for p in parsed] == [f.server_timestamp for f in fragments]
    assert all(p.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == p.number for p in parsed)


def test_get_clip_returns_mp4(kv: ArchivedMediaClient, cam: Any) -> None:
    """GetClip streams an MP4 body."""
    with kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(seconds=10)) as clip:
        data = clip.read()
        assert clip.content_type == "video/mp4"
    assert data[4:8] == b"ftyp"


# -- images -------------------------------------------------------------------------------


def test_images_over_a_long_range_are_complete(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """A 700 s range at 5 s intervals gives 141 images (end included) over requests of <= 300 s."""
    emulator.add_stream("long", fragment_count=400, start=T0, payload_size=64)
    images = list(
        kv.get_images(
            stream_name="long",
            start=T0,
            end=T0 + timedelta(seconds=700),
            sampling_interval=timedelta(seconds=5),
            format="PNG",
        )
    )
    times = [image.timestamp for image in images]
    assert times == [T0 + timedelta(seconds=5 * k) for k in range(141)]
    assert all(image.data and image.data.startswith(b"\x89PNG") for image in images)
    requests = [r.params for r in emulator.requests if r.operation == "GetImages"]
    spans = [r["EndTimestamp"] - r["StartTimestamp"] for r in requests]
    assert max(spans) <= 300


def test_images_in_a_gap_are_skipped_or_carry_no_media(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Instants no fragment covers are skipped, or with include_empty give NO_MEDIA and no data."""
    emulator.add_stream("gappy", fragment_count=3, start=T0, payload_size=64, gap_ms=4000)
    span = {"stream_name": "gappy", "start": T0, "end": T0 + timedelta(seconds=11)}
    images = list(kv.get_images(**span, include_empty=True))
    assert len(images) == 12
    assert {image.error for image in images} == {"NO_MEDIA", None}
    assert all((image.data is None) == (image.error is not None) for image in images)
    assert any(image.data and image.data[:2] == b"\xff\xd8" for image in images)
    assert list(kv.get_images(**span)) == [image for image in images if image.data]


# -- streaming sessions -------------------------------------------------------------------


def test_hls_and_dash_urls(emulator: Emulator, kv: ArchivedMediaClient, cam: Any) -> None:
    """Both session calls return the service's URL and send the chosen options."""
    hls = kv.get_hls_streaming_session_url(
        stream_name="cam",
        playback_mode="ON_DEMAND",
        start=T0,
        end=T0 + timedelta(seconds=20),
        container_format="MPEG_TS",
        expires=3600,
        max_media_playlist_fragment_results=100,
    )
    dash = kv.get_dash_streaming_session_url(
        stream_name="cam", playback_mode="LIVE_REPLAY", start=T0, display_fragment_number="ALWAYS"
    )
    assert emulator.session_token in hls and ".m3u8" in hls
    assert emulator.session_token in dash and ".mpd" in dash
    hls_params = [
        r.params for r in emulator.requests if r.operation == "GetHLSStreamingSessionURL"
    ][0]
    assert hls_params["ContainerFormat"] == "MPEG_TS"
    assert hls_params["Expires"] == 3600
    assert hls_params["MaxMediaPlaylistFragmentResults"] == 100
    dash_params = [
        r.params for r in emulator.requests if r.operation == "GetDASHStreamingSessionURL"
    ][0]
    assert "EndTimestamp" not in dash_params["DASHFragmentSelector"]["TimestampRange"]


def test_the_control_plane_follows_aws_endpoint_url_kinesis_video(
    emulator: Emulator, cam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no endpoint_url=, AWS_ENDPOINT_URL_KINESIS_VIDEO (boto3's own setting, which
    ``kvarchive emulator`` prints) points the client at the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS_VIDEO", emulator.endpoint_url)
    with ArchivedMediaClient(region_name="us-east-1") as kv:
        listed = list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1)))
    assert [f.number for f in listed] == expected_order(cam)
    assert emulator.count("GetDataEndpoint") == 1
