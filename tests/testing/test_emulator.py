"""kvarchive.testing: the emulator, driven by raw boto3 clients over real HTTP."""

from __future__ import annotations

import base64
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from kvarchive._matroska import ids as ebml
from kvarchive._matroska import vint
from kvarchive._matroska.elements import parse_header
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.frames import iter_frames
from kvarchive._matroska.parts import split_fragment
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive.testing import (
    EBML_MAGIC,
    EmulatedStream,
    Emulator,
    FragmentRecord,
    SyntheticFragment,
    fragment_numbers,
    synthetic_fragment,
)

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Server-side validation is under test, so botocore does not check minimums first.
NO_RETRY = Config(
    retries={"total_max_attempts": 1},
    connect_timeout=2,
    read_timeout=10,
    parameter_validation=False,
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def selector(start: datetime, end: datetime, kind: str = "SERVER_TIMESTAMP") -> dict[str, Any]:
    """A FragmentSelector / ClipFragmentSelector."""
    return {
        "FragmentSelectorType": kind,
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATORTEST0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator/test/secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def cam(emu: Emulator) -> EmulatedStream:
    return emu.add_stream("cam", fragment_count=30, start=START, payload_size=8 * 1024)


@pytest.fixture
def make_client() -> Iterator[Callable[..., Any]]:
    """A factory of boto3 clients, all closed at teardown."""
    made: list[Any] = []

    def make(service: str, url: str, config: Config = NO_RETRY, session: Any = None) -> Any:
        client = (session or boto3).client(
            service, endpoint_url=url, region_name="us-east-1", config=config
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def control(emu: Emulator, make_client: Callable[..., Any]) -> Any:
    return make_client("kinesisvideo", emu.endpoint_url)


@pytest.fixture
def data(emu: Emulator, cam: EmulatedStream, control: Any, make_client: Callable[..., Any]) -> Any:
    url = control.get_data_endpoint(StreamName="cam", APIName="LIST_FRAGMENTS")["DataEndpoint"]
    return make_client("kinesis-video-archived-media", url)


def list_all(data: Any, **kwargs: Any) -> list[list[dict[str, Any]]]:
    pages = []
    token = None
    while True:
        extra: dict[str, str] = {"NextToken": token} if token else {}
        answer = data.list_fragments(StreamName="cam", **kwargs, **extra)
        pages.append(answer["Fragments"])
        token = answer.get("NextToken")
        if not token:
            return pages


def read_body(answer: dict[str, Any]) -> bytes:
    try:
        return answer["Payload"].read()  # type: ignore[no-any-return]
    finally:
        answer["Payload"].close()


def read_media_of(data: Any, stream: str, numbers: list[str]) -> tuple[bytes, dict[str, Any]]:
    answer = data.get_media_for_fragment_list(StreamName=stream, Fragments=numbers)
    return read_body(answer), answer


def read_media(data: Any, numbers: list[str]) -> tuple[bytes, dict[str, Any]]:
    return read_media_of(data, "cam", numbers)


def elements(blob: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, int]]:
    """(id, payload offset, size) of the elements in blob[start:end]; unknown size runs to end."""
    end = len(blob) if end is None else end
    found = []
    pos = start
    while pos < end:
        parsed = parse_header(blob, pos, pos)
        assert parsed is not None, f"element header cut short at {pos}"
        element_id, size, header = parsed
        payload = pos + header
        if size == vint.UNKNOWN_SIZE:
            size = end - payload
        found.append((element_id, payload, size))
        pos = payload + size
    return found


def simple_tags(blob: bytes, offset: int, size: int) -> dict[str, str]:
    tags = {}
    for _, tag_off, tag_size in elements(blob, offset, offset + size):
        for child, c_off, c_size in elements(blob, tag_off, tag_off + tag_size):
            if child == ebml.SIMPLE_TAG:
                parts = {i: blob[o : o + s] for i, o, s in elements(blob, c_off, c_off + c_size)}
                tags[parts[ebml.TAG_NAME].decode()] = parts[ebml.TAG_STRING].decode()
    return tags


def boxes(blob: bytes) -> list[tuple[bytes, int]]:
    found = []
    pos = 0
    while pos < len(blob):
        size, kind = struct.unpack(">I4s", blob[pos : pos + 8])
        found.append((kind, size))
        pos += size
    return found


# -- control plane -------------------------------------------------------------


def test_get_data_endpoint_hands_out_a_separate_server(
    emu: Emulator, cam: Any, control: Any
) -> None:
    """GetDataEndpoint answers the data server's URL, which is not the control plane."""
    url = control.get_data_endpoint(StreamName="cam", APIName="GET_CLIP")["DataEndpoint"]
    assert url == emu.data_endpoint_url
    assert url != emu.endpoint_url
    assert urlsplit(url).hostname == "127.0.0.1"


def test_get_data_endpoint_accepts_a_stream_arn(cam: EmulatedStream, control: Any) -> None:
    """A stream can be named by its ARN of the service's form."""
    assert re.fullmatch(r"arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/\d{13}", cam.arn)
    answer = control.get_data_endpoint(StreamARN=cam.arn, APIName="LIST_FRAGMENTS")
    assert answer["DataEndpoint"].startswith("http://127.0.0.1:")


def test_describe_stream_reports_name_arn_and_creation_time(
    cam: EmulatedStream, control: Any
) -> None:
    """DescribeStream returns the stream's ARN, status and creation time."""
    info = control.describe_stream(StreamName="cam")["StreamInfo"]
    assert (info["StreamARN"], info["Status"]) == (cam.arn, "ACTIVE")
    assert info["CreationTime"] == cam.creation_time


# -- ListFragments -------------------------------------------------------------


def test_list_fragments_describes_each_fragment(cam: EmulatedStream, data: Any) -> None:
    """Each listed fragment carries number, size, both timestamps and its length."""
    listed = data.list_fragments(
        StreamName="cam", FragmentSelector=selector(START, START + timedelta(seconds=10))
    )["Fragments"]
    assert len(listed) == 6
    first = min(listed, key=lambda f: int(f["FragmentNumber"]))
    record = cam.fragments[0]
    assert first["FragmentNumber"] == record.number and len(record.number) == 47
    assert first["FragmentSizeInBytes"] == record.size == len(record.data())
    assert first["ServerTimestamp"] == START
    assert timedelta(milliseconds=200) <= START - first["ProducerTimestamp"] <= timedelta(seconds=1)
    assert first["FragmentLengthInMilliseconds"] == 2000


def test_list_fragments_pages_are_shuffled_but_complete(cam: EmulatedStream, data: Any) -> None:
    """Pages come in no order, even across pages, yet together hold each fragment once."""
    pages = list_all(data, MaxResults=7, FragmentSelector=selector(START, START + timedelta(1)))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    numbers = [f["FragmentNumber"] for page in pages for f in page]
    assert sorted(numbers, key=int) == [f.number for f in cam.fragments]
    assert numbers != sorted(numbers, key=int)


def test_list_fragments_order_is_deterministic(cam: Any, data: Any) -> None:
    """The same listing twice gives the same order (seeded shuffle)."""
    query = {"MaxResults": 10, "FragmentSelector": selector(START, START + timedelta(1))}
    assert list_all(data, **query) == list_all(data, **query)


def test_list_fragments_order_follows_the_stream_as_it_changes(
    emu: Emulator, cam: EmulatedStream, data: Any
) -> None:
    """A range listed again after the stream grew or lost fragments shows exactly its fragments
    now: the orders kept for paging are never those of an older stream."""
    query = {"MaxResults": 7, "FragmentSelector": selector(START, START + timedelta(1))}
    listed = {f["FragmentNumber"] for page in list_all(data, **query) for f in page}
    assert listed == {f.number for f in cam.fragments}
    added = emu.append_fragments("cam", 2)
    grown = {f["FragmentNumber"] for page in list_all(data, **query) for f in page}
    assert grown == listed | {f.number for f in added}
    dropped = emu.drop_fragments("cam", before=cam.fragments[5].server_timestamp)
    shrunk = {f["FragmentNumber"] for page in list_all(data, **query) for f in page}
    assert shrunk == grown - {f.number for f in dropped}


def test_media_cache_serves_the_same_bytes(cam: EmulatedStream, make_client: Any) -> None:
    """With media_cache_bytes, media answers are the very bytes of an emulator without it, the
    first time and again, for fragments kept in the cache and those past its limit."""
    numbers = [f.number for f in cam.fragments[:6]]
    limit = sum(f.size for f in cam.fragments[:3])
    with Emulator(media_cache_bytes=limit) as cached:
        stream = cached.add_stream("cam", fragment_count=30, start=START, payload_size=8 * 1024)
        assert [f.number for f in stream.fragments] == [f.number for f in cam.fragments]
        url = make_client("kinesisvideo", cached.endpoint_url).get_data_endpoint(
            StreamName="cam", APIName="GET_MEDIA_FOR_FRAGMENT_LIST"
        )["DataEndpoint"]
        data = make_client("kinesis-video-archived-media", url)
        first, _ = read_media(data, numbers)
        again, _ = read_media(data, numbers)
    assert first == again == b"".join(f.data() for f in cam.fragments[:6])


def test_media_cache_size_must_not_be_negative() -> None:
    """A negative media_cache_bytes is refused before any server starts."""
    with pytest.raises(ValueError, match="media_cache_bytes"):
        Emulator(media_cache_bytes=-1)


@pytest.fixture
def ms_data(emu: Emulator, cam: EmulatedStream, make_client: Callable[..., Any]) -> Any:
    """A data-plane client that sends timestamps with their milliseconds.

    botocore before 1.44 sends whole seconds by default, 1.44 microseconds.
    """

    def milliseconds(serializer_kwargs: dict[str, Any], **_: Any) -> None:
        serializer_kwargs["timestamp_precision"] = "millisecond"

    session = boto3.Session()
    session.events.register("creating-serializer.kinesisvideo", milliseconds)
    return make_client("kinesis-video-archived-media", emu.data_endpoint_url, session=session)


def test_list_fragments_selects_by_producer_timestamp(cam: EmulatedStream, ms_data: Any) -> None:
    """PRODUCER_TIMESTAMP ranges apply to the producer time, a few hundred ms earlier."""
    data = ms_data
    second = cam.fragments[1]
    window = selector(
        second.producer_timestamp, second.server_timestamp - timedelta(milliseconds=1)
    )
    by_server = data.list_fragments(StreamName="cam", FragmentSelector=window)["Fragments"]
    window["FragmentSelectorType"] = "PRODUCER_TIMESTAMP"
    by_producer = data.list_fragments(StreamName="cam", FragmentSelector=window)["Fragments"]
    assert by_server == []
    assert [f["FragmentNumber"] for f in by_producer] == [second.number]


def test_list_fragments_keeps_request_milliseconds(
    emu: Emulator, cam: EmulatedStream, ms_data: Any
) -> None:
    """A start 1 ms after a fragment excludes it: request fractions are kept."""
    data = ms_data
    start = START + timedelta(milliseconds=1)
    listed = data.list_fragments(
        StreamName="cam", FragmentSelector=selector(start, START + timedelta(seconds=2))
    )["Fragments"]
    assert [f["FragmentNumber"] for f in listed] == [cam.fragments[1].number]
    sent = emu.requests[-1].params["FragmentSelector"]["TimestampRange"]["StartTimestamp"]
    assert sent == pytest.approx(START.timestamp() + 0.001, abs=1e-6)


@pytest.mark.parametrize(
    "change",
    [
        {"MaxResults": 1001},
        {"FragmentSelector": selector(START, START, kind="server_timestamp")},
        {"FragmentSelector": selector(START + timedelta(1), START)},
        {"NextToken": "bm90LWEtdG9rZW4="},
    ],
    ids=["max-results", "enum-spelling", "end-before-start", "bad-token"],
)
def test_list_fragments_rejects_values_the_service_rejects(
    cam: Any, data: Any, change: dict[str, Any]
) -> None:
    """Out-of-range or malformed arguments are InvalidArgumentException (HTTP 400)."""
    query = {"StreamName": "cam", "FragmentSelector": selector(START, START), **change}
    with pytest.raises(ClientError) as caught:
        data.list_fragments(**query)
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_mixed_number_lengths_break_string_sorting() -> None:
    """Numbers of 46 and 47 digits sort differently as strings and as integers."""
    numbers = fragment_numbers(10, seed=3, mixed_lengths=True)
    assert {len(n) for n in numbers} == {46, 47}
    assert numbers == sorted(numbers, key=int)
    assert sorted(numbers) != numbers


# -- GetMediaForFragmentList ---------------------------------------------------


def test_media_is_the_fragments_in_the_asked_order(cam: EmulatedStream, data: Any) -> None:
    """The body concatenates the fragments' bytes in request order, as video/webm."""
    chosen = [cam.fragments[5], cam.fragments[2], cam.fragments[9]]
    body, answer = read_media(data, [f.number for f in chosen])
    assert answer["ContentType"] == "video/webm"
    assert body == b"".join(f.data() for f in chosen)


def test_media_body_is_chunked_by_default_and_length_on_request(
    emu: Emulator, cam: EmulatedStream, data: Any
) -> None:
    """Media bodies are chunked like the service's; body_framing='length' sends a length."""
    _, answer = read_media(data, [cam.fragments[0].number])
    assert answer["ResponseMetadata"]["HTTPHeaders"]["transfer-encoding"] == "chunked"
    emu.body_framing = "length"
    _, answer = read_media(data, [cam.fragments[0].number])
    assert int(answer["ResponseMetadata"]["HTTPHeaders"]["content-length"]) == cam.fragments[0].size


# -- synthetic fragments -------------------------------------------------------


def test_synthetic_fragment_has_the_kvs_layout() -> None:
    """EBML header, unknown-size Segment, Info, Tracks, AWS Tags, then a Cluster."""
    blob = synthetic_fragment(
        "91343852333181432392682062622220590765191807586",
        START,
        START - timedelta(milliseconds=321),
    )
    top = elements(blob)
    assert [t[0] for t in top] == [ebml.EBML, ebml.SEGMENT]
    assert blob[top[1][1] - 8 : top[1][1]] == bytes.fromhex("01ffffffffffffff")
    children = elements(blob, top[1][1])
    assert [c[0] for c in children] == [ebml.INFO, ebml.TRACKS, ebml.TAGS, ebml.CLUSTER]
    tags = simple_tags(blob, children[2][1], children[2][2])
    assert tags == {
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": "91343852333181432392682062622220590765191807586",
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": "1767225600.000",
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": "1767225599.679",
    }
    cluster = elements(blob, children[3][1])
    assert cluster[0][0] == ebml.TIMECODE
    assert int.from_bytes(blob[cluster[0][1] : cluster[0][1] + cluster[0][2]], "big") == (
        1767225599679
    )
    blocks = [c for c in cluster if c[0] == ebml.SIMPLE_BLOCK]
    assert len(blocks) == 30
    assert blob[blocks[0][1]] == 0x81 and blob[blocks[0][1] + 3] == 0x80
    assert blob[blocks[1][1] + 3] == 0x00


def test_synthetic_fragment_size_is_known_without_generating() -> None:
    """The recipe's size equals the generated length, and generation is deterministic."""
    recipe = SyntheticFragment("7", 1000, 700, payload_size=300_000, seed=5, audio=True)
    assert recipe.size == len(recipe.data()) > 300_000
    assert recipe.data() == recipe.data()
    assert (
        SyntheticFragment("7", 1000, 700, seed=6).data() != SyntheticFragment("7", 1000, 700).data()
    )


def test_magic_always_plants_ebml_magic_inside_frames() -> None:
    """With magic='always' frame payloads carry 1A 45 DF A3 besides the real header."""
    blob = synthetic_fragment("1", START, START, magic="always")
    assert blob.count(EBML_MAGIC) > 10
    assert synthetic_fragment("1", START, START, magic="never").count(EBML_MAGIC) == 1


def test_known_size_cluster_and_trailing_tags_are_options() -> None:
    """cluster_size_known sizes the Cluster; trailing_tags adds MILLIS_BEHIND_NOW after it."""
    blob = synthetic_fragment("1", START, START, cluster_size_known=True, trailing_tags=True)
    children = elements(blob, elements(blob)[1][1])
    assert [c[0] for c in children][-2:] == [ebml.CLUSTER, ebml.TAGS]
    assert "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW" in simple_tags(
        blob, children[-1][1], children[-1][2]
    )


def test_audio_option_adds_an_aac_track() -> None:
    """audio=True adds track 2 (A_AAC) and its blocks."""
    blob = synthetic_fragment("1", START, START, audio=True)
    assert b"A_AAC" in blob and b"V_MPEG4/ISO/AVC" in blob
    segment = elements(blob)[1][1]
    cluster = next(c for c in elements(blob, segment) if c[0] == ebml.CLUSTER)
    tracks = {blob[o] for i, o, _ in elements(blob, cluster[1]) if i == ebml.SIMPLE_BLOCK}
    assert tracks == {0x81, 0x82}


def test_round_trip_against_the_synthetic_generator() -> None:
    """Fragments made by kvarchive.testing scan, split and decode back to their recipe."""
    recipes = [
        SyntheticFragment(
            number=str(91343852333181432392682062591174131839009706440 + n),
            server_ms=1511852109126 + 2000 * n,
            producer_ms=1511852108000 + 2000 * n,
            frame_count=5 + n,
            payload_size=20_000,
            seed=n,
            audio=n % 2 == 1,
            cluster_size_known=n % 3 == 2,
            trailing_tags=n % 2 == 0,
            magic="always",
        )
        for n in range(6)
    ]
    scanner = FragmentScanner()
    found: list[FragmentInfo] = []
    for recipe in recipes:
        for piece in recipe.iter_chunks():
            found += scanner.feed(piece)
    found += scanner.finish()
    assert [f.number for f in found] == [r.number for r in recipes]
    assert [f.size for f in found] == [r.size for r in recipes]
    assert [f.server_timestamp for f in found] == [
        datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=r.server_ms)
        for r in recipes
    ]
    assert [("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW" in f.tags) for f in found] == [
        r.trailing_tags for r in recipes
    ]
    for recipe in recipes:
        data = recipe.data()
        assert split_fragment(data).to_bytes() == data
        frames = list(iter_frames(data))
        assert [(f.track, f.keyframe, f.data) for f in frames] == [
            (g.track, g.keyframe, g.data()) for g in recipe.frames()
        ]
        assert [f.time_ns // 1_000_000 for f in frames] == [
            recipe.producer_ms + g.offset_ms for g in recipe.frames()
        ]


# -- GetClip -------------------------------------------------------------------


def test_get_clip_returns_an_mp4(cam: EmulatedStream, data: Any) -> None:
    """GetClip streams ftyp, moov and mdat as video/mp4."""
    answer = data.get_clip(
        StreamName="cam", ClipFragmentSelector=selector(START, START + timedelta(seconds=5))
    )
    body = read_body(answer)
    assert answer["ContentType"] == "video/mp4"
    assert [kind for kind, _ in boxes(body)] == [b"ftyp", b"moov", b"mdat"]
    frames = [f for record in cam.fragments[:3] for f in record.source.frames()]
    assert boxes(body)[2][1] == 8 + sum(f.size for f in frames)


# -- GetImages -----------------------------------------------------------------


def get_images(data: Any, **kwargs: Any) -> dict[str, Any]:
    query = {
        "StreamName": "cam",
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "StartTimestamp": START,
        "EndTimestamp": START + timedelta(seconds=60),
        "SamplingInterval": 1000,
        "Format": "JPEG",
        **kwargs,
    }
    return data.get_images(**query)  # type: ignore[no-any-return]


def test_get_images_pages_hold_at_most_25(cam: Any, data: Any) -> None:
    """Whatever MaxResults says, a page holds at most 25 images; the pages cover the range, end included."""
    sizes = []
    stamps = []
    token = None
    while True:
        answer = get_images(data, MaxResults=100, **({"NextToken": token} if token else {}))
        sizes.append(len(answer["Images"]))
        stamps += [image["TimeStamp"] for image in answer["Images"]]
        token = answer.get("NextToken")
        if not token:
            break
    assert sizes == [25, 25, 11]
    assert stamps == [START + timedelta(seconds=s) for s in range(61)]


def test_get_images_marks_instants_without_media(cam: Any, data: Any) -> None:
    """Instants outside every fragment get Error NO_MEDIA; others carry a JPEG."""
    images = get_images(
        data, StartTimestamp=START - timedelta(seconds=2), EndTimestamp=START + timedelta(seconds=2)
    )["Images"]
    assert [i.get("Error") for i in images] == ["NO_MEDIA", "NO_MEDIA", None, None, None]
    assert "ImageContent" not in images[0]
    jpeg = base64.b64decode(images[2]["ImageContent"])
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"


def test_get_images_includes_the_instant_at_end(cam: Any, data: Any) -> None:
    """EndTimestamp is inclusive: a range of exactly n intervals has n + 1 instants."""
    images = get_images(data, EndTimestamp=START + timedelta(seconds=4), SamplingInterval=2000)
    assert [i["TimeStamp"] for i in images["Images"]] == [
        START + timedelta(seconds=s) for s in (0, 2, 4)
    ]


def test_get_images_refuses_an_empty_range(cam: Any, data: Any) -> None:
    """EndTimestamp equal to StartTimestamp is InvalidArgumentException."""
    with pytest.raises(ClientError) as caught:
        get_images(data, EndTimestamp=START)
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_get_images_png_has_the_requested_size(cam: Any, data: Any) -> None:
    """PNG images are real PNGs of WidthPixels x HeightPixels."""
    image = get_images(data, Format="PNG", WidthPixels=64, HeightPixels=36)["Images"][0]
    png = base64.b64decode(image["ImageContent"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (64, 36)


@pytest.mark.parametrize(
    "change",
    [
        {"EndTimestamp": START + timedelta(seconds=301)},
        {"SamplingInterval": 199},
        {"WidthPixels": 3841},
        {"HeightPixels": 2161},
        {"FormatConfig": {"JPEGQuality": "0"}},
        {"MaxResults": 101},
        {"Format": "GIF"},
    ],
    ids=["range", "interval", "width", "height", "quality", "max-results", "format"],
)
def test_get_images_rejects_values_the_service_rejects(
    cam: Any, data: Any, change: dict[str, Any]
) -> None:
    """Out-of-range GetImages arguments are InvalidArgumentException."""
    with pytest.raises(ClientError) as caught:
        get_images(data, **change)
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"


# -- HLS / DASH ----------------------------------------------------------------


def test_hls_url_carries_a_token_of_its_own(emu: Emulator, cam: Any, data: Any) -> None:
    """Each HLS session URL, on the data endpoint, holds a new token that starts with
    emu.session_token."""
    urls = [
        data.get_hls_streaming_session_url(
            StreamName="cam",
            PlaybackMode="ON_DEMAND",
            HLSFragmentSelector=selector(START, START + timedelta(seconds=30)),
            Expires=3600,
        )["HLSStreamingSessionURL"]
        for _ in range(2)
    ]
    tokens = emu.session_tokens
    assert len(set(tokens)) == 2
    for url, token in zip(urls, tokens):
        assert token.startswith(emu.session_token)
        expected = "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=" + token
        assert url == emu.data_endpoint_url + expected
    assert emu.session_token not in repr(emu)


def test_dash_url_carries_the_session_token(emu: Emulator, cam: Any, data: Any) -> None:
    """A LIVE_REPLAY DASH session URL holds the session's token."""
    answer = data.get_dash_streaming_session_url(
        StreamName="cam",
        PlaybackMode="LIVE_REPLAY",
        DASHFragmentSelector={
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": START},
        },
        DisplayFragmentNumber="ALWAYS",
    )
    assert answer["DASHStreamingSessionURL"].endswith(
        "getDASHManifest.mpd?SessionToken=" + emu.session_tokens[-1]
    )


@pytest.mark.parametrize(
    "change",
    [
        {"Expires": 299},
        {"Expires": 43201},
        {"MaxMediaPlaylistFragmentResults": 5001},
        {"ContainerFormat": "MP4"},
        {"PlaybackMode": "ON_DEMAND"},
    ],
    ids=["expires-low", "expires-high", "max-results", "container", "on-demand-without-range"],
)
def test_hls_rejects_values_the_service_rejects(
    cam: Any, data: Any, change: dict[str, Any]
) -> None:
    """Expires outside 300..43200, bad enums and missing ranges are InvalidArgumentException."""
    with pytest.raises(ClientError) as caught:
        data.get_hls_streaming_session_url(StreamName="cam", **change)
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"


# -- fault injection -----------------------------------------------------------


def test_fail_next_answers_injected_errors_then_recovers(
    emu: Emulator, cam: Any, data: Any
) -> None:
    """fail_next answers `count` calls with the given code and status, then normally."""
    emu.fail_next("ListFragments", code="ClientLimitExceededException", count=2, message="slow")
    query = {"StreamName": "cam", "FragmentSelector": selector(START, START)}
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            data.list_fragments(**query)
        assert caught.value.response["Error"] == {
            "Code": "ClientLimitExceededException",
            "Message": "slow",
        }
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(data.list_fragments(**query)["Fragments"]) == 1


def test_fail_fragment_refuses_an_unknown_stream_or_a_bad_number(emu: Emulator, cam: Any) -> None:
    """fail_fragment names a stream the emulator holds and a number of digits, or raises."""
    with pytest.raises(KeyError):
        emu.fail_fragment("nope", cam.fragments[0].number)
    with pytest.raises(ValueError, match="decimal digits"):
        emu.fail_fragment("cam", "12a")


def test_throttle_refuses_calls_beyond_the_rate(emu: Emulator, cam: Any, data: Any) -> None:
    """throttle() lets `per_second` calls through per stream; the rest are ClientLimitExceeded."""
    emu.throttle("ListFragments", per_second=2)
    codes = []
    for _ in range(5):
        try:
            data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START))
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert codes[:2] == ["ok", "ok"]
    assert codes.count("ClientLimitExceededException") >= 2
    assert emu.throttled_count == codes.count("ClientLimitExceededException")


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_cut_body_raises_on_read_when_framed(
    emu: Emulator, cam: EmulatedStream, data: Any, framing: str
) -> None:
    """A cut chunked or Content-Length body makes botocore raise while reading."""
    emu.cut_next("GetMediaForFragmentList", after_bytes=5000, framing=framing)
    with pytest.raises(ResponseStreamingError):
        read_media(data, [f.number for f in cam.fragments[:3]])
    body, _ = read_media(data, [cam.fragments[0].number])
    assert body == cam.fragments[0].data()


def test_cut_close_delimited_body_looks_like_a_clean_end(
    emu: Emulator, cam: EmulatedStream, data: Any
) -> None:
    """With framing 'close', a cut body simply ends short."""
    emu.body_framing = "close"
    emu.cut_next("GetMediaForFragmentList", after_bytes=12345)
    body, _ = read_media(data, [f.number for f in cam.fragments[:3]])
    assert body == b"".join(f.data() for f in cam.fragments[:3])[:12345]


def test_stall_next_lets_the_read_timeout_fire(
    emu: Emulator, cam: Any, make_client: Callable[..., Any]
) -> None:
    """stall_next delays the answer past the client's read timeout."""
    impatient = Config(retries={"total_max_attempts": 1}, read_timeout=0.3)
    data = make_client("kinesis-video-archived-media", emu.data_endpoint_url, impatient)
    emu.stall_next("ListFragments", 2.0)
    with pytest.raises(ReadTimeoutError):
        data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START))


def test_bandwidth_caps_the_body_rate(emu: Emulator, cam: EmulatedStream, data: Any) -> None:
    """bandwidth() paces bodies: 3 fragments at 1 MB/s take a measurable while."""
    numbers = [f.number for f in cam.fragments[:3]]
    total = sum(f.size for f in cam.fragments[:3])
    emu.bandwidth(total * 5)
    began = time.monotonic()
    body, _ = read_media(data, numbers)
    assert len(body) == total
    assert time.monotonic() - began >= 0.15


def test_retired_data_endpoint_refuses_connections(
    emu: Emulator, cam: Any, control: Any, data: Any
) -> None:
    """After retire_data_endpoint the old port refuses; GetDataEndpoint hands out a new one."""
    data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START))
    old = emu.data_endpoint_url
    new = emu.retire_data_endpoint()
    assert new != old
    with pytest.raises(EndpointConnectionError):
        data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START))
    handed = control.get_data_endpoint(StreamName="cam", APIName="LIST_FRAGMENTS")
    assert handed["DataEndpoint"] == new


# -- the emulator's own bugs ---------------------------------------------------


def broken_image(fragment: Any, fmt: str) -> bytes:
    """A stream's image source with a bug in it."""
    raise ZeroDivisionError("a bug in the test double")


def test_a_bug_in_a_handler_is_answered_500_and_raised_at_the_next_call(
    emu: Emulator, cam: EmulatedStream, data: Any
) -> None:
    """An exception inside a handler answers HTTP 500, then the next call of the emulator
    raises it, with the traceback of where it happened, once."""
    cam.stored_image = broken_image
    with pytest.raises(ClientError) as caught:
        get_images(data)
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(ZeroDivisionError, match="a bug in the test double") as raised:
        emu.count()
    assert raised.traceback[-1].name == "broken_image"
    assert emu.count("GetImages") == 1


class BrokenSource:
    """Fragment bytes whose making fails half-way, as a bug in the double would."""

    size = 2048

    def iter_chunks(self) -> Iterator[bytes]:
        yield b"\x1a\x45\xdf\xa3"
        raise RuntimeError("the fragment maker broke")

    def frames(self) -> list[Any]:
        return []


def test_a_bug_while_sending_a_body_is_raised_at_the_next_call(
    emu: Emulator, cam: EmulatedStream, data: Any
) -> None:
    """An exception while a body streams cuts the connection, and the next call raises it."""
    last = cam.fragments[-1]
    broken = FragmentRecord("9" * 47, last.server_ms + 2000, last.producer_ms + 2000, 2000,
                            BrokenSource.size, last.index + 1, BrokenSource())  # fmt: skip
    cam.next_fragment = lambda _: broken
    emu.append_fragments("cam")
    with pytest.raises(ResponseStreamingError):
        read_media(data, [broken.number])
    with pytest.raises(RuntimeError, match="the fragment maker broke"):
        emu.clear_requests()


def test_a_bug_in_a_handler_is_raised_at_close(cam: EmulatedStream, make_client: Any) -> None:
    """A bug no call has raised yet is raised by close() (the end of a with block), after the
    servers stopped."""
    with pytest.raises(ZeroDivisionError, match="a bug in the test double"):
        with Emulator() as emu:
            stream = emu.add_stream("cam", fragment_count=3, start=START)
            stream.stored_image = broken_image
            data = make_client("kinesis-video-archived-media", emu.data_endpoint_url)
            with pytest.raises(ClientError):
                get_images(data)
            port = urlsplit(emu.data_endpoint_url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- requests and lifecycle ----------------------------------------------------


def test_requests_are_recorded(emu: Emulator, cam: Any, control: Any, data: Any) -> None:
    """Each request is recorded with endpoint, URL, operation and JSON parameters."""
    data.list_fragments(StreamName="cam", MaxResults=3, FragmentSelector=selector(START, START))
    endpoint, listing = emu.requests
    assert (endpoint.endpoint, endpoint.operation) == ("control", "GetDataEndpoint")
    assert endpoint.params == {"StreamName": "cam", "APIName": "LIST_FRAGMENTS"}
    assert (listing.endpoint, listing.url, listing.operation) == (
        "data",
        emu.data_endpoint_url,
        "ListFragments",
    )
    assert listing.params["MaxResults"] == 3
    assert (emu.count("ListFragments"), emu.count()) == (1, 2)
    emu.clear_requests()
    assert emu.requests == [] and emu.count() == 0


def test_close_stops_listening() -> None:
    """After close() neither endpoint accepts connections."""
    emu = Emulator()
    ports = [urlsplit(u).port for u in (emu.endpoint_url, emu.data_endpoint_url)]
    emu.close()
    emu.close()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_large_streams_are_not_held_in_memory(emu: Emulator, data: Any) -> None:
    """A 1 GB stream is created at once; its fragments are generated only when served."""
    began = time.monotonic()
    big = emu.add_stream("big", fragment_count=256, payload_size=4 * 2**20, start=START)
    assert time.monotonic() - began < 2
    assert big.total_size > 2**30
    answer = data.get_media_for_fragment_list(StreamName="big", Fragments=[big.fragments[7].number])
    try:
        size = sum(len(c) for c in answer["Payload"].iter_chunks(1 << 20))
    finally:
        answer["Payload"].close()
    assert size == big.fragments[7].size


# -- the bundled real sample ---------------------------------------------------

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed",
)


@pytest.fixture
def demo(emu: Emulator) -> EmulatedStream:
    return emu.add_sample_stream("demo", start=START)


def decode(path: Path) -> tuple[str, dict[str, int]]:
    """ffmpeg's complaints while decoding ``path``, and frames read per codec."""
    run = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    probe = subprocess.run(
        ["ffprobe", "-v", "quiet", "-count_frames", "-of", "csv=p=0",
         "-show_entries", "stream=codec_name,nb_read_frames", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    frames = {}
    for line in probe.stdout.split():
        codec, count = line.split(",")
        frames[codec] = int(count)
    return run.stderr, frames


def test_sample_stream_is_ten_one_second_fragments(demo: EmulatedStream, data: Any) -> None:
    """The sample serves ten fragments of about one second, listed like any stream."""
    assert len(demo.fragments) == 10
    assert all(990 <= f.duration_ms <= 1000 for f in demo.fragments)
    assert demo.fragments[0].server_timestamp == START
    listed = data.list_fragments(
        StreamName="demo", FragmentSelector=selector(START, START + timedelta(minutes=1))
    )["Fragments"]
    assert sorted(f["FragmentSizeInBytes"] for f in listed) == sorted(
        f.size for f in demo.fragments
    )


def test_sample_fragments_carry_kvs_tags_and_both_tracks(demo: EmulatedStream) -> None:
    """Each sample fragment is a KVS document with its number, timestamps and H.264 + AAC."""
    record = demo.fragments[4]
    blob = record.data()
    children = elements(blob, elements(blob)[1][1])
    tags = simple_tags(blob, *next((o, s) for i, o, s in children if i == ebml.TAGS))
    assert tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == record.number
    assert tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"] == f"{record.server_ms / 1000:.3f}"
    assert b"V_MPEG4/ISO/AVC" in blob and b"A_AAC" in blob


@needs_ffmpeg
def test_sample_fragment_decodes(demo: EmulatedStream, data: Any, tmp_path: Path) -> None:
    """One fragment fetched over HTTP decodes cleanly: 15 video frames and its audio."""
    body, _ = read_media_of(data, "demo", [demo.fragments[3].number])
    path = tmp_path / "fragment.mkv"
    path.write_bytes(body)
    errors, frames = decode(path)
    assert errors == ""
    assert frames["h264"] == 15 and frames["aac"] > 10


@needs_ffmpeg
def test_sample_concatenation_decodes_at_least_its_first_fragment(
    demo: EmulatedStream, data: Any, tmp_path: Path
) -> None:
    """A body of several fragments is readable by ffmpeg, at least its first fragment."""
    body, _ = read_media_of(data, "demo", [f.number for f in demo.fragments[:3]])
    path = tmp_path / "three.mkv"
    path.write_bytes(body)
    _, frames = decode(path)
    assert frames["h264"] >= 15


@needs_ffmpeg
def test_sample_clip_is_a_playable_mp4(demo: EmulatedStream, data: Any, tmp_path: Path) -> None:
    """GetClip of four sample fragments is an MP4 that decodes cleanly to 60 frames."""
    window = selector(demo.fragments[2].server_timestamp, demo.fragments[5].server_timestamp)
    path = tmp_path / "clip.mp4"
    path.write_bytes(read_body(data.get_clip(StreamName="demo", ClipFragmentSelector=window)))
    errors, frames = decode(path)
    assert errors == ""
    assert frames["h264"] == 60


def test_sample_images_are_the_real_keyframes(demo: EmulatedStream, data: Any) -> None:
    """GetImages on the sample answers each fragment's real keyframe image."""
    images = get_images(data, StreamName="demo", EndTimestamp=START + timedelta(seconds=3))
    jpegs = [base64.b64decode(i["ImageContent"]) for i in images["Images"]]
    assert len(jpegs) == 4 and len(set(jpegs)) == 4
    assert all(j[:2] == b"\xff\xd8" and len(j) > 2000 for j in jpegs)
    png = base64.b64decode(
        get_images(data, StreamName="demo", Format="PNG")["Images"][0]["ImageContent"]
    )
    assert struct.unpack(">II", png[16:24]) == (320, 240)
